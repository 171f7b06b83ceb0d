"""Run-once-at-a-time locks across processes (crons, Lexware pushes): a Redis lock held as a
lease, renewed every third of `ttl` while the holder runs, released only by its holder
(redis-py's token-checked Lock). A crashed holder's lock expires within `ttl` seconds, so the
next run can go ahead; a holder that lost its lease (Redis away longer than `ttl`) is stopped
with LockLost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

from app.errors import Conflict
from app.redis import redis_failed

log = logging.getLogger(__name__)


class LockLost(Conflict):
    """The lock expired or was taken while its holder ran: the holder was stopped, since
    another process may be doing the same work now."""


@asynccontextmanager
async def exclusive(redis: Redis, name: str, *, ttl: float = 60.0) -> AsyncIterator[bool]:
    """Yields whether this process holds the lock (False: someone else runs it now)."""
    lock = redis.lock(f"crm:lock:{name}", timeout=ttl)
    try:
        acquired = await lock.acquire(blocking=False)
    except RedisError:
        redis_failed("locks")
        raise
    if not acquired:
        yield False
        return
    owner = asyncio.current_task()
    lost = asyncio.Event()
    renewal = asyncio.create_task(_renew(lock, ttl, owner, lost))
    try:
        yield True
    except asyncio.CancelledError:
        # Our own stop and no other cancellation: say what happened instead of vanishing.
        if lost.is_set() and owner is not None and owner.cancelling() == 1:
            owner.uncancel()
            raise LockLost("The work stopped: it lost its lock; try again.") from None
        raise
    finally:
        renewal.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewal
        with contextlib.suppress(LockError, RedisError):  # expired or Redis gone: nothing held
            await lock.release()


async def _renew(
    lock: Lock, ttl: float, owner: asyncio.Task[object] | None, lost: asyncio.Event
) -> None:
    """Keep the lock while its holder runs; once it is lost (expired, taken), stop the holder:
    another process may already be doing the same work."""
    while True:
        await asyncio.sleep(ttl / 3)
        try:
            await lock.reacquire()
        except LockError as error:
            log.error("lost the lock %s (%s): stopping its holder", lock.name, error)
            lost.set()
            if owner is not None:
                owner.cancel()
            return
        except RedisError as error:  # a blip: the lock holds until its expiry, try again
            redis_failed("locks")
            log.warning("could not renew the lock %s: %s", lock.name, error)
