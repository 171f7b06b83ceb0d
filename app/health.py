"""GET /health (database, Redis, Lexware) and GET /livez; no authentication."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response

from app.events.relay import unpublished_count
from app.heartbeat import last_heartbeat
from app.runtime import Runtime
from app.web.http import json_response

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
        return False


async def _unpublished_events(runtime: Runtime) -> int | None:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            return await unpublished_count(runtime.engine)
    except Exception:
        return None


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
    database, redis, backlog, worker, lexware = await asyncio.gather(
        _database_ok(runtime),
        _redis_ok(runtime),
        _unpublished_events(runtime),
        _worker_state(runtime),
        _lexware_state(runtime),
    )
    healthy = database and redis
    body: dict[str, Any] = {
        "status": "ok" if healthy else "degraded",
        "checks": {
            "database": "up" if database else "down",
            "redis": "up" if redis else "down",
            "lexware": lexware,
            "worker": worker,
        },
        "unpublishedEvents": backlog,
        "rateLimiter": runtime.rate_limiter.health(),  # ok, off, or degraded (failing open)
    }
    return json_response(body, status_code=200 if healthy else 503)


async def livez(_request: Request) -> Response:
    return json_response({"status": "ok"})
