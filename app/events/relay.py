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
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.events import outbox
from app.events.message import CrmEventMessage
from app.redis import redis_failed
from app.supervision import Backoff
from app.telemetry.metrics import EVENTS_PUBLISHED, EVENTS_UNPUBLISHED, RELAY_LAG
from models.roles import SYSTEM_SETTING

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
           e.changes, e.request_id, e.traceparent
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


# The relay works across tenants as `crm_system` (models.roles): its transactions switch in
# their first statement, and the statements after it have that role's rights. (A statement's
# rights are checked before it runs: the switch cannot serve the statement it is part of.)
_SWITCH = sa.text(SYSTEM_SETTING)


# Parsed once, not per batch; the switch rides along (no round trip of its own).
_TRY_LOCK = sa.text(
    f"SELECT pg_try_advisory_xact_lock(:key) FROM ({SYSTEM_SETTING}) AS system"  # noqa: S608
)

# The backlog and the age of its oldest event: the first unpublished event of each tenant
# that has any, by its primary key. The LIMIT keeps the subquery a per-tenant index probe (a
# plain join lets the planner scan the whole outbox, which only grows); a tenant without a
# backlog is not probed at all. `occurred_at` is when the event's transaction began.
_BACKLOG_AGE = sa.text(
    """
    SELECT COALESCE(SUM(c.last_seq - COALESCE(r.published_seq, 0)), 0),
           EXTRACT(EPOCH FROM now() - MIN(oldest.occurred_at))::float8
    FROM event_counter c
    LEFT JOIN event_relay r ON r.tenant_id = c.tenant_id
    LEFT JOIN LATERAL (
        SELECT e.occurred_at FROM crm_event e
        WHERE c.last_seq > COALESCE(r.published_seq, 0)
          AND e.tenant_id = c.tenant_id AND e.seq = COALESCE(r.published_seq, 0) + 1
        LIMIT 1
    ) oldest ON true
    """
)


@dataclass(frozen=True)
class OutboxLag:
    unpublished: int
    oldest_seconds: float | None  # None: nothing waits


async def outbox_lag(engine: AsyncEngine) -> OutboxLag:
    """How far the relay is behind: events not yet out on Redis, and how long the oldest of
    them has waited (both grow while Redis is down). One statement, for /health and for
    each /metrics scrape, never per request."""
    async with engine.connect() as connection:  # rolled back at its end, the switch with it
        await connection.execute(_SWITCH)
        count, oldest = (await connection.execute(_BACKLOG_AGE)).one()
    return OutboxLag(int(count), None if oldest is None else max(0.0, float(oldest)))


async def report_backlog(engine: AsyncEngine) -> None:
    """Set the backlog gauges (crm_events_unpublished, crm_event_relay_lag_seconds)."""
    lag = await outbox_lag(engine)
    EVENTS_UNPUBLISHED.set(lag.unpublished)
    RELAY_LAG.set(lag.oldest_seconds or 0.0)


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
    EVENTS_PUBLISHED.inc(len(messages))  # committed: marked as published
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

    async def report_backlog(self) -> None:
        """The outbox's backlog into the metrics, on the relay's own engine (never the
        requests' pool)."""
        await report_backlog(self._engine)

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
                    if isinstance(error, RedisError):
                        redis_failed("event_relay")
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
