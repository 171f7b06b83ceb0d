"""GET /health and /livez."""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.script import ScriptDirectory

import app.runtime as runtime_module
from app.heartbeat import HEARTBEAT_KEY, record_heartbeat
from app.migrations import alembic_config
from app.settings import Settings
from app.web.asgi import GC_THRESHOLDS
from tests.conftest import Servers, Tokens, error_codes, serving
from tests.pg_proxy import PostgresProxy

DEAD_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"
DEAD_REDIS = "redis://127.0.0.1:1/0"


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 15) -> None:
    """Wait for a state, bounded (a sleep is no assertion)."""
    async with asyncio.timeout(seconds):
        while True:
            if await check():
                return
            await asyncio.sleep(0.05)


async def test_health_is_200_when_database_and_redis_answer(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["ready"], body["degraded"]) == ("ok", True, [])
    assert body["checks"] | {"worker": "-"} == {
        "database": "up",
        "migrations": "current",
        "redis": "up",
        "lexware": "unconfigured",
        "worker": "-",
    }
    assert isinstance(body["unpublishedEvents"], int)

    async def view_loaded() -> bool:  # the revocation view's first look, at start
        return (await client.get("/health")).json()["revocationViewAgeSeconds"] is not None

    await until(view_loaded)
    assert (await client.get("/readyz")).json()["checks"] == body["checks"] | {
        "worker": (await client.get("/readyz")).json()["checks"]["worker"]
    }


async def test_health_tells_whether_a_worker_beats(client: httpx.AsyncClient, app: Any) -> None:
    redis = app.state.runtime.redis
    await redis.delete(HEARTBEAT_KEY)
    assert (await client.get("/health")).json()["checks"]["worker"] == "down"
    await record_heartbeat(redis)
    assert (await client.get("/health")).json()["checks"]["worker"] == "up"


async def test_health_needs_no_token_and_livez_answers(client: httpx.AsyncClient) -> None:
    assert (await client.get("/livez")).json() == {"status": "ok"}


async def test_startup_freezes_its_objects_and_collects_the_young_rarely(
    settings: Settings,
) -> None:
    """Full collections under 1,000 sockets stalled the process for 100 ms (bench S6)."""
    gc.set_threshold(700, 10, 10)  # CPython's defaults
    gc.unfreeze()
    async with serving(settings):
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 0


async def test_with_redis_down_health_is_ready_but_names_the_degraded_state(
    settings: Settings,
) -> None:
    """The API works without Redis (revocations come from PostgreSQL, events wait in the
    outbox): ready, 200, with the degraded state named."""
    async with serving(settings.model_copy(update={"redis_url": DEAD_REDIS})) as http:
        response = await http.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["ready"], body["degraded"]) == ("degraded", True, ["redis"])
    assert body["checks"] == {
        "database": "up",
        "migrations": "current",
        "redis": "down",
        "lexware": "unconfigured",
        "worker": "unknown",
    }


async def test_health_is_503_when_the_database_is_down(settings: Settings) -> None:
    async with serving(settings.model_copy(update={"database_url": DEAD_POSTGRES})) as http:
        response = await http.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["ready"]) == ("unavailable", False)
    assert body["checks"]["database"] == "down"
    assert body["checks"]["migrations"] == "unknown"
    assert body["checks"]["redis"] == "up"


async def test_a_database_that_goes_away_makes_the_process_unready(
    settings: Settings, servers: Servers
) -> None:
    """Migrations seen at head are remembered; the database itself is asked every time."""
    async with (
        PostgresProxy(servers.database_url) as proxy,
        serving(settings.model_copy(update={"database_url": proxy.url})) as http,
    ):
        assert (await http.get("/health")).status_code == 200
        await proxy.cut()
        response = await http.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "down"
    assert response.json()["ready"] is False


async def test_a_database_behind_the_migrations_is_not_ready(
    settings: Settings, scratch_database_url: str
) -> None:
    config = alembic_config(scratch_database_url)
    heads = ScriptDirectory.from_config(config).get_heads()
    previous = ScriptDirectory.from_config(config).get_revision(heads[0]).down_revision
    await asyncio.to_thread(command.upgrade, config, str(previous))
    async with serving(settings.model_copy(update={"database_url": scratch_database_url})) as http:
        behind = await http.get("/health")
        await asyncio.to_thread(command.upgrade, config, "head")
        current = await http.get("/health")
    assert behind.status_code == 503
    assert behind.json()["checks"] | {"worker": "-"} == {
        "database": "up",
        "migrations": "behind",
        "redis": "up",
        "lexware": "unconfigured",
        "worker": "-",
    }
    assert (current.status_code, current.json()["checks"]["migrations"]) == (200, "current")


async def test_graphql_with_the_database_down_is_a_clear_503(
    settings: Settings, tokens: Tokens
) -> None:
    async with serving(settings.model_copy(update={"database_url": DEAD_POSTGRES})) as http:
        token = tokens.make(f"t-{uuid.uuid4().hex[:8]}")
        response = await http.post(
            "/graphql",
            json={"query": "{ me { roles } }"},
            headers={"authorization": f"Bearer {token}"},
        )
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert error_codes(response.json()) == ["SERVICE_UNAVAILABLE"]
    assert "Traceback" not in response.text


async def test_graphql_with_redis_down_answers(settings: Settings, tokens: Tokens) -> None:
    """Revocations are checked in the process's view of PostgreSQL's rows: no Redis needed
    (tests/test_redis_outage.py: a revoked token stays refused)."""
    async with serving(settings.model_copy(update={"redis_url": DEAD_REDIS})) as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ me { roles } }"},
            headers={"authorization": f"Bearer {tokens.make('t-redis-down')}"},
        )
    assert response.status_code == 200
    assert response.json()["data"] == {"me": {"roles": ["admin"]}}


async def test_a_stuck_shutdown_step_is_given_up_after_its_bound(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A connection stuck mid-statement must not hold the process's shutdown forever."""
    monkeypatch.setattr(runtime_module, "CLOSE_SECONDS", 0.1)
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    await runtime_module._bounded("database", never)
    assert "database did not close" in caplog.text
