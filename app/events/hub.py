"""The process's event hub: one Redis subscription, fanned out to every live GraphQL
subscription of the process, by tenant.

Redis pub/sub delivers only while connected, so the hub never is the source of truth: each
inbox tells its reader to re-read the outbox (`resync`) whenever the hub (re)connects or the
inbox overflowed because its client is slow. Readers also notice gaps in a tenant's event ids.

When the hub loses Redis, every inbox is interrupted: its reader gets `LiveEventsLost` (a
SERVICE_UNAVAILABLE), and a WebSocket subscription ends with a coded close (1013, Try Again
Later: resolvers/events/subscriptions.py, `until_lost`), so clients reconnect and resume with
`after` instead of waiting, unknowingly, for events that cannot arrive. Until the hub is
connected again, a new subscription is interrupted as it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from app.errors import ServiceUnavailable
from app.events.message import BadMessage, CrmEventMessage
from app.redis import heard, redis_failed
from app.supervision import Backoff
from app.telemetry.metrics import HUB_RECONNECTS, SUBSCRIPTIONS_LIVE

log = logging.getLogger(__name__)
CHANNELS = "crm.*"
PING_SECONDS = 10.0
TRY_AGAIN_LATER = 1013  # the WebSocket close code of an interrupted subscription


class LiveEventsLost(ServiceUnavailable):
    """The hub lost Redis: live events cannot arrive until it is back."""

    close_code = TRY_AGAIN_LATER

    def __init__(self) -> None:
        super().__init__(
            "Live events are interrupted (Redis is unreachable); reconnect and resume with after."
        )

    @property
    def reason(self) -> str:
        return f"{self.code}: {self.message}"


class Inbox:
    """One subscriber's queue: its tenant's events in order, bounded."""

    def __init__(self, tenant_id: uuid.UUID, limit: int) -> None:
        self.tenant_id = tenant_id
        self._limit = limit
        self._items: deque[CrmEventMessage] = deque()
        self._ready = asyncio.Event()
        self._resync = False
        self._lost = False

    def push(self, event: CrmEventMessage) -> None:
        if len(self._items) >= self._limit:
            self._items.clear()  # the reader re-reads them from the outbox
            self._resync = True
        else:
            self._items.append(event)
        self._ready.set()

    def request_resync(self) -> None:
        self._resync = True
        self._ready.set()

    def interrupt(self) -> None:
        self._lost = True
        self._ready.set()

    async def next(self) -> tuple[bool, list[CrmEventMessage]]:
        """Wait for news: (re-read the outbox first?, the events that arrived). Raises
        LiveEventsLost once the hub has lost Redis."""
        await self._ready.wait()
        if self._lost:
            raise LiveEventsLost
        self._ready.clear()
        items, self._items = list(self._items), deque()
        resync, self._resync = self._resync, False
        return resync, items


class EventHub:
    def __init__(self, redis: Redis, *, inbox_limit: int = 1000) -> None:
        self._redis = redis
        self._inbox_limit = inbox_limit
        self._inboxes: dict[uuid.UUID, set[Inbox]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self._down = False  # lost Redis, not connected again yet
        self._backoff = Backoff(log, "event hub")
        self._was_connected = False  # a connect after the first is a reconnect (metrics)

    @property
    def subscriber_count(self) -> int:
        return sum(len(inboxes) for inboxes in self._inboxes.values())

    @asynccontextmanager
    async def subscribe(self, tenant_id: uuid.UUID) -> AsyncIterator[Inbox]:
        inbox = Inbox(tenant_id, self._inbox_limit)
        if self._down:
            inbox.interrupt()
        self._inboxes[tenant_id].add(inbox)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._listen(), name="event-hub")
        SUBSCRIPTIONS_LIVE.inc()  # each GraphQL subscription follows through one inbox
        try:
            yield inbox
        finally:
            SUBSCRIPTIONS_LIVE.dec()
            self._inboxes[tenant_id].discard(inbox)
            if not self._inboxes[tenant_id]:
                del self._inboxes[tenant_id]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        self.connected.clear()

    async def _listen(self) -> None:
        while True:
            try:
                await self._listen_once()
            except Exception as error:  # Redis away, or a bug: live delivery must go on
                self.connected.clear()
                redis_failed("event_hub")
                self._interrupt_all()
                await self._backoff.failed(error)

    def _interrupt_all(self) -> None:
        self._down = True
        for inboxes in self._inboxes.values():
            for inbox in inboxes:
                inbox.interrupt()

    async def _listen_once(self) -> None:
        """Listen until the connection fails. A quiet connection is pinged; no answer within
        a few intervals means it is half-open, and we reconnect (and readers resync)."""
        async with self._redis.pubsub() as pubsub:
            await pubsub.psubscribe(CHANNELS)
            async for message in heard(pubsub, PING_SECONDS):
                if message["type"] == "psubscribe":
                    self._on_connected()
                elif message["type"] == "pmessage":
                    self._dispatch(message["data"])

    def _on_connected(self) -> None:
        """Anything published while we were away is in the outbox: readers catch up there."""
        self.connected.set()
        self._down = False
        self._backoff.succeeded()
        if self._was_connected:
            HUB_RECONNECTS.inc()
        self._was_connected = True
        for inboxes in self._inboxes.values():
            for inbox in inboxes:
                inbox.request_resync()

    def _dispatch(self, data: bytes) -> None:
        try:
            event = CrmEventMessage.from_json(data)
        except BadMessage as error:
            log.warning("event hub: ignoring a message that is not a CRM event (%s)", error)
            return
        for inbox in self._inboxes.get(event.tenant_id, ()):
            inbox.push(event)
