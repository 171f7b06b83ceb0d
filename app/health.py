"""GET /livez (liveness) and GET /health (readiness, with the details); no authentication.

`/livez` answers while the process serves at all. `/health` (also at `/readyz`) is readiness:
200 while the process can serve the API: the database answers and its schema is at the
migrations' head. Redis is not needed for that (revocations come from PostgreSQL, events wait
in the outbox): with Redis down the answer stays 200 with `"status": "degraded"` and the state
named in `degraded`. The database down or the schema behind is 503 (`"status":
"unavailable"`). Each check is bounded, so a hung backend answers as down within seconds.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from starlette.requests import Request
from starlette.responses import Response

from app.events.relay import OutboxLag, outbox_lag
from app.heartbeat import last_heartbeat
from app.migrations import alembic_config
from app.redis import redis_failed
from app.runtime import Runtime
from app.web.http import json_response
from models.roles import SYSTEM_SETTING

CHECK_TIMEOUT_SECONDS = 2.0


async def _database_ok(runtime: Runtime) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), runtime.engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
        return True
    except Exception:  # any failure means "down" to a health check
        return False


async def _redis_ok(runtime: Runtime) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            return bool(await runtime.redis.ping())
    except Exception:
        redis_failed("health")
        return False


async def _outbox_lag(runtime: Runtime) -> OutboxLag | None:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            return await outbox_lag(runtime.engine)
    except Exception:
        return None


_SCRIPT_HEADS: set[str] = set()  # the migrations this code knows as the newest
_AT_HEAD: set[str] = set()  # database URLs seen at head: a schema does not go back


def _script_heads() -> set[str]:
    if not _SCRIPT_HEADS:
        _SCRIPT_HEADS.update(ScriptDirectory.from_config(alembic_config("")).get_heads())
    return _SCRIPT_HEADS


async def _migrations_state(runtime: Runtime) -> str:
    """ "current" when the database's schema is at the migrations' head (checked until it
    is, then remembered), "behind" when not, "unknown" when the database does not answer."""
    url = str(runtime.engine.url)
    if url in _AT_HEAD:
        return "current"
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), runtime.engine.connect() as connection:
            await connection.execute(sa.text(SYSTEM_SETTING))  # the serving role reads nothing
            exists = await connection.scalar(sa.text("SELECT to_regclass('alembic_version')"))
            rows = await connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            applied = {row[0] for row in rows} if exists is not None else set()
    except Exception:
        return "unknown"
    if applied != _script_heads():
        return "behind"
    _AT_HEAD.add(url)
    return "current"


async def _worker_state(runtime: Runtime) -> str:
    """ "up" while some worker beat within the last three minutes (crons need one)."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            beat = await last_heartbeat(runtime.redis)
    except Exception:
        return "unknown"
    return "up" if beat is not None else "down"


_lexware_checked: dict[str, tuple[float, str]] = {}  # health is polled often: one check a minute
LEXWARE_CHECK_SECONDS = 60.0


def forget_lexware_check() -> None:
    _lexware_checked.clear()


async def _lexware_state(runtime: Runtime) -> str:
    """The server key's state: unconfigured, up (Lexware accepts it) or down."""
    settings = runtime.settings
    if settings.lexware_api_key is None:
        return "unconfigured"
    cached = _lexware_checked.get(settings.lexware_base_url)
    if cached is not None and time.monotonic() - cached[0] < LEXWARE_CHECK_SECONDS:
        return cached[1]
    key = settings.lexware_api_key.get_secret_value()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS * 2):
            await runtime.lexware.client_with_key(key, max_wait=1).get("/v1/profile")
        state = "up"
    except Exception:
        state = "down"
    _lexware_checked[settings.lexware_base_url] = (time.monotonic(), state)
    return state


async def health(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    database, migrations, redis, lag, worker, lexware = await asyncio.gather(
        _database_ok(runtime),
        _migrations_state(runtime),
        _redis_ok(runtime),
        _outbox_lag(runtime),
        _worker_state(runtime),
        _lexware_state(runtime),
    )
    ready = database and migrations == "current"
    degraded = [] if redis else ["redis"]
    view_age = runtime.authenticator.revocations.age
    body: dict[str, Any] = {
        "status": ("degraded" if degraded else "ok") if ready else "unavailable",
        "ready": ready,
        "degraded": degraded,
        "checks": {
            "database": "up" if database else "down",
            "migrations": migrations,
            "redis": "up" if redis else "down",
            "lexware": lexware,
            "worker": worker,
        },
        "unpublishedEvents": None if lag is None else lag.unpublished,
        "oldestUnpublishedEventSeconds": None if lag is None else lag.oldest_seconds,
        "revocationViewAgeSeconds": None if view_age is None else round(view_age, 3),
        "rateLimiter": runtime.rate_limiter.health(),  # ok, off, or degraded (failing open)
    }
    return json_response(body, status_code=200 if ready else 503)


async def livez(_request: Request) -> Response:
    return json_response({"status": "ok"})
