"""Running one job by hand (`insight-crm run-job NAME`), with the context a worker gives it."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from app.data.engine import DatabaseLimits, create_engine, create_session_factory
from app.events.relay import publish_pending
from app.lexware.connector import LexwareConnector
from app.redis import create_redis
from app.settings import Settings
from app.telemetry import tracing
from jobs.request_ids import cron_run
from jobs.worker import JOBS


async def _publish_all(engine: AsyncEngine, redis: Redis) -> None:
    """Publish what the job recorded. While another relay holds the lock, wait for it: its
    batch may have begun before the job's commit, and it waits for its own commits."""
    for _ in range(100):  # five seconds at most; after that, the running relay's poll
        published = await publish_pending(engine, redis)
        if published is None:
            await asyncio.sleep(0.05)
        elif not published.more:
            return


async def run_once(settings: Settings, name: str) -> Any:
    """Run the job, then publish the events it recorded (KeyError for an unknown job)."""
    job = tracing.traced_cron(JOBS[name])  # a root span of its own, when tracing is on
    limits = DatabaseLimits.for_jobs(settings)
    engine = create_engine(str(settings.database_url), pool_size=2, limits=limits)
    redis = create_redis(str(settings.redis_url), settings)
    try:
        lexware = LexwareConnector(settings, redis)
        ctx = {
            "settings": settings,
            "sessions": create_session_factory(engine),
            "redis": redis,
            "lexware": lexware,
        }
        try:
            result = await cron_run(job)(ctx)  # its own request id, as a cron run has
        finally:
            await lexware.close()
        await _publish_all(engine, redis)
        return result
    finally:
        await redis.aclose()
        await engine.dispose()
