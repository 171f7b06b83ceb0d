"""Running one job by hand (`insight-crm run-job NAME`), with the context a worker gives it."""

from __future__ import annotations

from typing import Any

from app.db import create_engine, create_session_factory
from app.events.relay import publish_pending
from app.lexware.connector import LexwareConnector
from app.redis import create_redis
from app.settings import Settings
from jobs.worker import JOBS


async def run_once(settings: Settings, name: str) -> Any:
    """Run the job, then publish the events it recorded (KeyError for an unknown job)."""
    job = JOBS[name]
    engine = create_engine(str(settings.database_url), pool_size=2)
    redis = create_redis(str(settings.redis_url))
    try:
        lexware = LexwareConnector(settings, redis)
        ctx = {
            "settings": settings,
            "sessions": create_session_factory(engine),
            "redis": redis,
            "lexware": lexware,
        }
        try:
            result = await job(ctx)
        finally:
            await lexware.close()
        # None: a running relay publishes them.
        while (published := await publish_pending(engine, redis)) and published.more:
            pass
        return result
    finally:
        await redis.aclose()
        await engine.dispose()
