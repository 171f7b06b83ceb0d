"""GET /health and /livez."""

from __future__ import annotations

import asyncio
import gc
import uuid
from typing import Any

import httpx
import pytest

import app.runtime as runtime_module
from app.heartbeat import HEARTBEAT_KEY, record_heartbeat
from app.settings import Settings
from app.web.asgi import GC_THRESHOLDS
from tests.conftest import Tokens, error_codes, serving

DEAD_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"
DEAD_REDIS = "redis://127.0.0.1:1/0"


async def test_health_is_200_when_database_and_redis_answer(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] | {"worker": "-"} == {
        "database": "up",
        "redis": "up",
        "lexware": "unconfigured",
        "worker": "-",
    }
    assert isinstance(body["unpublishedEvents"], int)


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


async def test_health_is_503_when_redis_is_down(settings: Settings) -> None:
    async with serving(settings.model_copy(update={"redis_url": DEAD_REDIS})) as http:
        response = await http.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "up",
        "redis": "down",
        "lexware": "unconfigured",
        "worker": "unknown",
    }


async def test_health_is_503_when_the_database_is_down(settings: Settings) -> None:
    async with serving(settings.model_copy(update={"database_url": DEAD_POSTGRES})) as http:
        response = await http.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "down"
    assert response.json()["checks"]["redis"] == "up"


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


async def test_graphql_with_redis_down_refuses_rather_than_skip_revocation(
    settings: Settings, tokens: Tokens
) -> None:
    async with serving(settings.model_copy(update={"redis_url": DEAD_REDIS})) as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ me { roles } }"},
            headers={"authorization": f"Bearer {tokens.make('t-redis-down')}"},
        )
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert error_codes(response.json()) == ["SERVICE_UNAVAILABLE"]
    assert "data" not in response.json()


async def test_a_stuck_shutdown_step_is_given_up_after_its_bound(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A connection stuck mid-statement must not hold the process's shutdown forever."""
    monkeypatch.setattr(runtime_module, "CLOSE_SECONDS", 0.1)
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    await runtime_module._bounded("database", never)
    assert "database did not close" in caplog.text
