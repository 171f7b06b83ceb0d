"""The tenant's event history: the outbox read back (the `events` query, entity histories,
and the catch-up reads of live subscriptions)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col

from app.errors import BadUserInput
from app.events.message import CrmEventMessage
from app.tenancy import TenantScope
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
) -> list[CrmEventMessage]:
    """Events in id order (newest first when descending), after the cursor, at most `first`."""
    seq = col(CrmEvent.seq)
    statement = sa.select(CrmEvent).where(*_where(query_filter))
    if after is not None:
        statement = statement.where(seq < after if descending else seq > after)
    statement = statement.order_by(seq.desc() if descending else seq).limit(first)
    async with scope.reading() as session:
        rows = (await session.execute(statement)).scalars().all()
    return [CrmEventMessage.from_row(row) for row in rows]


async def count_events(scope: TenantScope, query_filter: EventFilter) -> int:
    statement = sa.select(sa.func.count()).select_from(CrmEvent).where(*_where(query_filter))
    async with scope.reading() as session:
        return int((await session.execute(statement)).scalar_one())


async def latest_event_id(scope: TenantScope) -> int:
    """The newest committed event of the tenant (0 before the first)."""
    statement = sa.select(sa.func.coalesce(sa.func.max(col(CrmEvent.seq)), 0))
    async with scope.reading() as session:
        return int((await session.execute(statement)).scalar_one())
