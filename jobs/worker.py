"""ARQ worker settings. Cron jobs (due-soon reminders, Lexware syncs) arrive with their issues."""

from __future__ import annotations

from typing import Any

from arq import cron
from arq.connections import RedisSettings

from app.services.heartbeat import record_heartbeat


async def heartbeat(ctx: dict[str, Any]) -> None:
    """Lets health checks and operators see that a worker is alive."""
    await record_heartbeat(ctx["redis"])


def worker_settings(redis_settings: RedisSettings) -> dict[str, Any]:
    return {
        "functions": [heartbeat],
        "cron_jobs": [cron(heartbeat, second=0, run_at_startup=True, unique=True)],
        "redis_settings": redis_settings,
        "queue_name": "insight-crm:jobs",
        "health_check_key": "insight-crm:worker:health",
    }
