"""The relay: publishes committed events from the outbox to Redis, in order, at least once.

One channel per event type, named as the type (`crm.deal.won`), JSON payload. One relay at a
time does the publishing (a PostgreSQL advisory lock per batch), whichever process it runs in;
every server and worker process runs one, woken by its own commits and polling now and then
for the others'. If Redis is down, the batch's transaction rolls back and is retried with
backoff: nothing is marked published that did not go out, and order is kept per tenant.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from app.events import outbox
from app.events.message import CrmEventMessage
from app.supervision import Backoff

log = logging.getLogger(__name__)
RELAY_LOCK = 0x6372_6D72_656C  # "crmrel": one publishing relay at a time, cluster-wide
BATCH = 500
PER_TENANT = 100  # per batch: one busy tenant cannot hold back everyone else's events
PUBLISH_TIMEOUT_SECONDS = 10.0

# Each tenant's oldest unpublished events, round-robin across tenants (rank first), so every
# tenant's share of a batch is a prefix of its backlog.
_PENDING = sa.text(
    """
    SELECT e.tenant_id, e.seq, e.type, e.entity, e.entity_id, e.actor_id, e.occurred_at,
           e.changes, e.traceparent
    FROM event_counter c
    LEFT JOIN event_relay r ON r.tenant_id = c.tenant_id
    CROSS JOIN LATERAL (
        SELECT *, row_number() OVER (ORDER BY seq) AS rank FROM crm_event e
        WHERE e.tenant_id = c.tenant_id AND e.seq > COALESCE(r.published_seq, 0)
        ORDER BY e.seq LIMIT :per_tenant
    ) e
    WHERE c.last_seq > COALESCE(r.published_seq, 0)
    ORDER BY e.rank, e.tenant_id
    LIMIT :batch
    """
)
# Never backwards: a mark older than the stored one (a late batch) leaves it as it is.
_MARK_PUBLISHED = sa.text(
    """
    INSERT INTO event_relay (tenant_id, published_seq)
    SELECT * FROM unnest(CAST(:tenants AS uuid[]), CAST(:seqs AS bigint[]))
    ON CONFLICT (tenant_id) DO UPDATE
    SET published_seq = GREATEST(event_relay.published_seq, EXCLUDED.published_seq)
    """
)


_BACKLOG = sa.text(
    """
    SELECT COALESCE(SUM(c.last_seq - COALESCE(r.published_seq, 0)), 0)
    FROM event_counter c LEFT JOIN event_relay r ON r.tenant_id = c.tenant_id
    """
)


_TRY_LOCK = sa.text("SELECT pg_try_advisory_xact_lock(:key)")  # parsed once, not per batch


async def unpublished_count(engine: AsyncEngine) -> int:
    """Committed events not yet out on Redis (grows while Redis is down)."""
    async with engine.connect() as connection:
        return int(await connection.scalar(_BACKLOG) or 0)


@dataclass(frozen=True)
class Published:
    count: int
    more: bool  # the batch, or a tenant's share of it, was full: more may be waiting


async def publish_pending(
    engine: AsyncEngine, redis: Redis, batch: int = BATCH
) -> Published | None:
    """Publish one batch of unpublished events, or None if another relay is busy."""
    async with engine.begin() as connection:
        # The events are read by a statement of their own, after the lock: a statement sees
        # the database as of its start, so one read with the lock could miss the previous
        # holder's mark and publish its batch again.
        locked = await connection.scalar(_TRY_LOCK, {"key": RELAY_LOCK})
        if not locked:
            return None
        rows = (
            await connection.execute(_PENDING, {"batch": batch, "per_tenant": PER_TENANT})
        ).all()
        if not rows:
            return Published(0, more=False)
        messages = [CrmEventMessage.from_row(row) for row in rows]
        await _publish(redis, messages)
        per_tenant = Counter(m.tenant_id for m in messages)
        newest = {m.tenant_id: m.seq for m in messages}
        await connection.execute(
            _MARK_PUBLISHED,
            {"tenants": [str(t) for t in newest], "seqs": list(newest.values())},
        )
    more = len(messages) == batch or max(per_tenant.values()) == PER_TENANT
    return Published(len(messages), more)


async def _publish(redis: Redis, messages: Sequence[CrmEventMessage]) -> None:
    # Bounded: the batch holds the relay lock, and a hung Redis must not hold it forever.
    async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS), redis.pipeline(transaction=False) as pipe:
        for message in messages:
            pipe.publish(message.type, message.to_json())
        await pipe.execute()


class Relay:
    """The process's relay loop (started by the server's lifespan and by the worker)."""

    def __init__(self, engine: AsyncEngine, redis: Redis, *, poll_seconds: float = 1.0) -> None:
        self._engine = engine
        self._redis = redis
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    async def close(self) -> None:
        await self._engine.dispose()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        stop_listening = outbox.on_committed(self.wake)
        backoff = Backoff(log, "event relay")
        try:
            while True:
                self._wake.clear()
                try:
                    published = await publish_pending(self._engine, self._redis)
                except Exception as error:  # Redis or the database away, or a bug
                    await backoff.failed(error)
                    continue
                backoff.succeeded()
                if published is None:  # another relay holds the lock: look again shortly
                    await asyncio.sleep(0.05)
                elif not published.more:
                    # All there was: a commit since the batch began has set the wake event
                    # again (it was cleared first), so nothing waits for the next poll.
                    await self._idle()
        finally:
            stop_listening()

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=self._poll_seconds)
