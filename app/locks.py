"""Run-once-at-a-time locks across processes (crons): a Redis lock with a short expiry, renewed
while the holder runs, released only by its holder (redis-py's token-checked Lock). A crashed
holder's lock expires within `ttl` seconds, so the next run can go ahead."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

log = logging.getLogger(__name__)


@asynccontextmanager
async def exclusive(redis: Redis, name: str, *, ttl: float = 60.0) -> AsyncIterator[bool]:
    """Yields whether this process holds the lock (False: someone else runs it now)."""
    lock = redis.lock(f"crm:lock:{name}", timeout=ttl)
    if not await lock.acquire(blocking=False):
        yield False
        return
    renewal = asyncio.create_task(_renew(lock, ttl))
    try:
        yield True
    finally:
        renewal.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewal
        with contextlib.suppress(LockError, RedisError):  # expired or Redis gone: nothing held
            await lock.release()


async def _renew(lock: Lock, ttl: float) -> None:
    while True:
        await asyncio.sleep(ttl / 3)
        try:
            await lock.reacquire()
        except (LockError, RedisError) as error:
            log.warning("could not renew a cron lock: %s", error)
