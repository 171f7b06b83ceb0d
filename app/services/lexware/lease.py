"""One Lexware operation on a record at a time, whichever process asks: a push, a sync, a link
or an unlink each hold the record as a lease for as long as they run.

Each reads Lexware and then writes the record (and its synced values): run side by side, a
sync that read Lexware before a push wrote to it would store Lexware's old values, version and
base after the push's. Another operation on the record meanwhile answers CONFLICT.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from app.errors import Conflict
from app.locks import exclusive

# The lease is renewed every third of this while its holder works (however long Lexware or the
# rate limit make it wait); a process that died mid-operation frees the record this soon.
LEASE_SECONDS = 5.0


def lease_name(record_id: uuid.UUID) -> str:
    return f"lexware-push:{record_id}"  # the name pushes have always held


@asynccontextmanager
async def record_lease(redis: Redis, record_id: uuid.UUID) -> AsyncIterator[None]:
    """Hold the record for one Lexware operation, or CONFLICT if another one runs."""
    async with exclusive(redis, lease_name(record_id), ttl=LEASE_SECONDS) as held:
        if not held:
            raise Conflict(
                "This record is being pushed to, synced with or linked to Lexware right now; "
                "try again shortly."
            )
        yield
