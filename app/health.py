"""GET /health (database, Redis, Lexware) and GET /livez; no authentication."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response

from app.http import json_response
from app.runtime import Runtime

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


async def health(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    database, redis = await asyncio.gather(_database_ok(runtime), _redis_ok(runtime))
    lexware = "configured" if runtime.settings.lexware_api_key else "unconfigured"
    healthy = database and redis
    body: dict[str, Any] = {
        "status": "ok" if healthy else "degraded",
        "checks": {
            "database": "up" if database else "down",
            "redis": "up" if redis else "down",
            "lexware": lexware,
        },
    }
    return json_response(body, status_code=200 if healthy else 503)


async def livez(_request: Request) -> Response:
    return json_response({"status": "ok"})
