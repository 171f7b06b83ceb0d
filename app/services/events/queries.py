"""The tenant's event history: the outbox read back (the `events` query, entity histories,
and the catch-up reads of live subscriptions)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col

from app.data.tenancy import TenantScope
from app.errors import BadUserInput
from app.events.hub import EventHub
from app.events.message import CrmEventMessage
from models import CrmEvent

MAX_TYPES = 50
# `crm.deal.won`, or `crm.deal.*` for every event of deals.
_TYPE = re.compile(r"^crm\.[a-z_]{1,40}\.([a-z_]{1,40}|\*)$")


@dataclass(frozen=True)
class EventFilter:
    types: tuple[str, ...] = ()
    entity: str | None = None
    entity_id: uuid.UUID | None = None

    def matches(self, event: CrmEventMessage) -> bool:
        if self.entity_id is not None and event.entity_id != self.entity_id:
            return False
        if self.entity is not None and event.entity != self.entity:
            return False
        return not self.types or any(_type_matches(t, event.type) for t in self.types)


def _type_matches(pattern: str, event_type: str) -> bool:
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return event_type == pattern


def event_filter(
    types: Sequence[str] | None, entity_id: uuid.UUID | None, entity: str | None = None
) -> EventFilter:
    """A filter from client input: known-looking type names (or `crm.<entity>.*`) only."""
    types = list(types or [])
    if len(types) > MAX_TYPES:
        raise BadUserInput.single("types", f"at most {MAX_TYPES} types")
    for index, name in enumerate(types):
        if not _TYPE.match(name):
            raise BadUserInput.single(
                f"types[{index}]", "must be an event type such as crm.deal.won or crm.deal.*"
            )
    return EventFilter(tuple(types), entity, entity_id)


def parse_event_id(value: str | None, field: str = "after") -> int | None:
    """An event id from a client (a resume cursor): a non-negative integer."""
    if value is None:
        return None
    text = str(value)
    if not text.isdigit() or len(text) > 18:
        raise BadUserInput.single(field, "is not an event id")
    return int(text)


def _where(query_filter: EventFilter) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if query_filter.entity_id is not None:
        conditions.append(col(CrmEvent.entity_id) == query_filter.entity_id)
    if query_filter.entity is not None:
        conditions.append(col(CrmEvent.entity) == query_filter.entity)
    exact = [t for t in query_filter.types if not t.endswith(".*")]
    prefixes = [t[:-1] for t in query_filter.types if t.endswith(".*")]
    if query_filter.types:
        conditions.append(
            sa.or_(
                col(CrmEvent.type).in_(exact),
                *(col(CrmEvent.type).startswith(p, autoescape=True) for p in prefixes),
            )
        )
    return conditions


async def list_events(
    scope: TenantScope,
    query_filter: EventFilter,
    *,
    after: int | None,
    first: int,
    descending: bool = False,
    until: int | None = None,
    until_inclusive: bool = True,
) -> list[CrmEventMessage]:
    """Events in id order (newest first when descending), after the cursor (and up to `until`,
    which descending is the lower end, itself included unless not `until_inclusive`), at
    most `first`."""
    seq = col(CrmEvent.seq)
    statement = sa.select(CrmEvent).where(*_where(query_filter))
    if after is not None:
        statement = statement.where(seq < after if descending else seq > after)
    if until is not None:
        if descending:
            statement = statement.where(seq >= until if until_inclusive else seq > until)
        else:
            statement = statement.where(seq <= until if until_inclusive else seq < until)
    statement = statement.order_by(seq.desc() if descending else seq).limit(first)
    async with scope.reading() as reads:
        rows = (await reads.execute(statement)).scalars().all()
    return [CrmEventMessage.from_row(row) for row in rows]


async def count_events(scope: TenantScope, query_filter: EventFilter) -> int:
    statement = sa.select(sa.func.count()).select_from(CrmEvent).where(*_where(query_filter))
    async with scope.reading() as reads:
        return int((await reads.execute(statement)).scalar_one())


async def latest_event_id(scope: TenantScope) -> int:
    """The newest committed event of the tenant (0 before the first)."""
    statement = sa.select(sa.func.coalesce(sa.func.max(col(CrmEvent.seq)), 0))
    async with scope.reading() as reads:
        return int((await reads.execute(statement)).scalar_one())


async def follow_events(
    scope: TenantScope,
    hub: EventHub,
    query_filter: EventFilter,
    after: int | None,
    *,
    start: Callable[[], Awaitable[int]] | None = None,
) -> AsyncIterator[CrmEventMessage]:
    """The tenant's events as they commit, from `after` on (replayed from the outbox first) or
    from now: in id order, none missed and none twice across replay, live delivery, Redis
    outages and slow-client overflow (each of which sends the reader back to the outbox).
    `start` reads where "now" is (the latest event id), with whatever must be consistent
    with it."""
    async with hub.subscribe(scope.tenant_id) as inbox:
        # Listening first, then reading where to start: nothing falls between the two.
        if after is not None:
            cursor = after
            inbox.request_resync()
        else:
            cursor = await start() if start is not None else await latest_event_id(scope)
        follower = _Follower(scope, query_filter, cursor)
        while True:
            resync, arrived = await inbox.next()
            if resync:
                async for event in follower.catch_up():
                    yield event
            async for event in follower.take(arrived):
                yield event


class _Follower:
    """A reader's position in the tenant's events and how it moves forward."""

    def __init__(self, scope: TenantScope, query_filter: EventFilter, cursor: int) -> None:
        self.scope, self.query_filter, self.cursor = scope, query_filter, cursor

    async def catch_up(self) -> AsyncIterator[CrmEventMessage]:
        """Everything committed since the cursor, from the outbox."""
        top = await latest_event_id(self.scope)
        async for event in _stored(self.scope, self.query_filter, self.cursor, top):
            yield event
        self.cursor = max(self.cursor, top)

    async def take(self, arrived: Sequence[CrmEventMessage]) -> AsyncIterator[CrmEventMessage]:
        """Live events: old ones skipped, a gap filled from the outbox first."""
        for event in arrived:
            if event.seq <= self.cursor:
                continue
            if event.seq > self.cursor + 1:  # missed some (e.g. while the hub reconnected)
                missed = _stored(self.scope, self.query_filter, self.cursor, event.seq - 1)
                async for stored in missed:
                    yield stored
            self.cursor = event.seq
            if self.query_filter.matches(event):
                yield event


async def check_resume_point(scope: TenantScope, after: int | None) -> None:
    """A resume cursor must be an event the tenant has had (else events would be skipped)."""
    if after is not None and after > await latest_event_id(scope):
        raise BadUserInput.single("after", "is newer than the latest event")


async def _stored(
    scope: TenantScope, query_filter: EventFilter, after: int, until: int | None
) -> AsyncIterator[CrmEventMessage]:
    while True:
        page = await list_events(scope, query_filter, after=after, first=200, until=until)
        for event in page:
            yield event
        if len(page) < 200:
            return
        after = page[-1].seq
