"""Domain events from row changes: which event types a create, update or delete emits, and the
`changes` they carry (field -> [old, new], in the API's camelCase names, JSON values).

Every write path of the services ends here (through `records` or directly), so the events of a
unit of work are recorded next to the statements that made them.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.outbox import record

_NOT_CHANGES = frozenset({"version", "created_at", "updated_at", "tenant_id", "reminded_due_at"})


@dataclass(frozen=True)
class Tracked:
    """How changes of one table appear as events: `crm.<entity>.<verb>` about the row that the
    `subject` column names (a deal owner's events are about the deal: `crm.deal.owner_added`)."""

    entity: str
    subject: str = "id"
    created: str = "created"
    updated: str = "updated"
    deleted: str = "deleted"
    hidden: frozenset[str] = field(default_factory=frozenset)

    def type(self, verb: str) -> str:
        return f"crm.{self.entity}.{verb}"


# Bookkeeping of the Lexware link: its own events (lexware_pushed, _synced) say when it moves.
LEXWARE_BOOKKEEPING = frozenset(
    {"lexware_contact_version", "lexware_synced_at", "lexware_synced_values"}
)

# Events of a company relationship are about the company it starts from.
RELATIONSHIP_EVENTS = Tracked(
    "company",
    subject="from_company_id",
    created="relationship_added",
    updated="relationship_updated",
    deleted="relationship_removed",
)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def camel_keys(value: Any) -> Any:
    """Nested dicts with their keys in the API's camelCase."""
    if isinstance(value, dict):
        return {camel(key): camel_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [camel_keys(item) for item in value]
    return value


def jsonable(value: Any) -> Any:
    """A column value as the event's JSON carries it (the API's representation)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    return value


def _fields(tracked: Tracked, row: Row[Any]) -> dict[str, Any]:
    skipped = _NOT_CHANGES | tracked.hidden | {tracked.subject}
    return {camel(k): jsonable(v) for k, v in row._mapping.items() if k not in skipped}


def created(
    session: AsyncSession, tracked: Tracked, row: Row[Any], extra: Mapping[str, Any] | None = None
) -> None:
    values = {k: [None, v] for k, v in _fields(tracked, row).items() if v not in (None, [], {})}
    values.update(extra or {})
    record(session, tracked.type(tracked.created), tracked.entity, _subject(tracked, row), values)


def deleted(session: AsyncSession, tracked: Tracked, row: Row[Any]) -> None:
    values = {k: [v, None] for k, v in _fields(tracked, row).items() if v not in (None, [], {})}
    record(session, tracked.type(tracked.deleted), tracked.entity, _subject(tracked, row), values)


def updated(
    session: AsyncSession,
    tracked: Tracked,
    old: Row[Any],
    new: Row[Any],
    extra: Mapping[str, Any] | None = None,
) -> None:
    """The update event with what changed (nothing changed: no event), then the events the
    entity derives from it (a deal's `won`, an activity's `completed`)."""
    before, after = _fields(tracked, old), _fields(tracked, new)
    diff = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    diff.update(extra or {})
    if not diff:
        return
    subject = _subject(tracked, new)
    record(session, tracked.type(tracked.updated), tracked.entity, subject, diff)
    for verb in DERIVED.get(tracked.type(tracked.updated), _none)(diff):
        record(session, tracked.type(verb), tracked.entity, subject, diff)


def record_verb(
    session: AsyncSession, tracked: Tracked, row: Row[Any], verb: str, diff: Mapping[str, Any]
) -> None:
    """An event of its own kind about the row (`crm.company.lexware_linked`)."""
    record(session, tracked.type(verb), tracked.entity, _subject(tracked, row), diff)


def record_update(
    session: AsyncSession, tracked: Tracked, row: Row[Any], diff: Mapping[str, Any]
) -> None:
    """An update event whose changes the caller knows already."""
    record(session, tracked.type(tracked.updated), tracked.entity, _subject(tracked, row), diff)


def _subject(tracked: Tracked, row: Row[Any]) -> uuid.UUID:
    return uuid.UUID(str(getattr(row, tracked.subject)))


def _none(_diff: Mapping[str, Any]) -> list[str]:
    return []


def _deal_verbs(diff: Mapping[str, Any]) -> list[str]:
    verbs = []
    if "stageId" in diff:
        verbs.append("stage_changed")
    if "status" in diff:
        old, new = diff["status"]
        if new in ("WON", "LOST"):
            verbs.append(new.lower())
        elif old in ("WON", "LOST"):
            verbs.append("reopened")
    return verbs


def _activity_verbs(diff: Mapping[str, Any]) -> list[str]:
    old, new = diff.get("completedAt", [None, None])
    return ["completed"] if old is None and new is not None else []


DERIVED: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
    "crm.deal.updated": _deal_verbs,
    "crm.activity.updated": _activity_verbs,
}
