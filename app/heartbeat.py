"""The worker's heartbeat: a Redis key with the time of the last beat."""

from __future__ import annotations

import time
from typing import Any

HEARTBEAT_KEY = "crm:worker:heartbeat"
HEARTBEAT_TTL_SECONDS = 180


async def record_heartbeat(redis: Any) -> None:
    await redis.set(HEARTBEAT_KEY, str(time.time()), ex=HEARTBEAT_TTL_SECONDS)


async def last_heartbeat(redis: Any) -> float | None:
    value = await redis.get(HEARTBEAT_KEY)
    return float(value) if value else None
