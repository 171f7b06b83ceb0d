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

from app.data.unit_of_work import UnitOfWork

_NOT_CHANGES = frozenset({"version", "created_at", "updated_at", "tenant_id", "reminded_due_at"})


@dataclass(frozen=True)
class Tracked:
    """How changes of one table appear as events: `crm.<entity>.<verb>` about the row that the
    `subject` column names (a deal owner's events are about the deal: `crm.deal.owner_added`).
    `derived`: the domain's rule for the events an update implies besides its own (a deal's
    `won`, an activity's `completed`), given the update's changes."""

    entity: str
    subject: str = "id"
    created: str = "created"
    updated: str = "updated"
    deleted: str = "deleted"
    hidden: frozenset[str] = field(default_factory=frozenset)
    derived: Callable[[Mapping[str, Any]], list[str]] | None = None

    def type(self, verb: str) -> str:
        return f"crm.{self.entity}.{verb}"


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
    uow: UnitOfWork, tracked: Tracked, row: Row[Any], extra: Mapping[str, Any] | None = None
) -> None:
    values = {k: [None, v] for k, v in _fields(tracked, row).items() if v not in (None, [], {})}
    values.update(extra or {})
    uow.record(tracked.type(tracked.created), tracked.entity, _subject(tracked, row), values)


def deleted(uow: UnitOfWork, tracked: Tracked, row: Row[Any]) -> None:
    values = {k: [v, None] for k, v in _fields(tracked, row).items() if v not in (None, [], {})}
    uow.record(tracked.type(tracked.deleted), tracked.entity, _subject(tracked, row), values)


# The trash (app.data.trash): `deleted` now means moved to the trash; its changes are a
# delete's (every value -> null) and who trashed it when. `restored` carries the record's
# values as a create's, so a listener that dropped the record can show it again; `purged`
# (deleted for good) a delete's.
TRASHED_BY = ("deleted_at", "deleted_by")


def trashed(uow: UnitOfWork, tracked: Tracked, row: Row[Any]) -> None:
    """`row`: the record's columns and `deleted_at`, `deleted_by`."""
    mapping = row._mapping
    values = {
        k: [v, None]
        for k, v in _fields(tracked, row).items()
        if v not in (None, [], {}) and k not in ("deletedAt", "deletedBy")
    }
    values.update({camel(k): [None, jsonable(mapping[k])] for k in TRASHED_BY})
    uow.record(tracked.type(tracked.deleted), tracked.entity, _subject(tracked, row), values)


def restored(uow: UnitOfWork, tracked: Tracked, row: Row[Any], trashed: Row[Any]) -> None:
    """`row`: the restored record; `trashed`: as it was in the trash (when, by whom)."""
    values = {k: [None, v] for k, v in _fields(tracked, row).items() if v not in (None, [], {})}
    values.update({camel(k): [jsonable(trashed._mapping[k]), None] for k in TRASHED_BY})
    uow.record(tracked.type("restored"), tracked.entity, _subject(tracked, row), values)


def purged(uow: UnitOfWork, tracked: Tracked, row: Row[Any]) -> None:
    values = {k: [v, None] for k, v in _fields(tracked, row).items() if v not in (None, [], {})}
    uow.record(tracked.type("purged"), tracked.entity, _subject(tracked, row), values)


def updated(
    uow: UnitOfWork,
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
    uow.record(tracked.type(tracked.updated), tracked.entity, subject, diff)
    for verb in tracked.derived(diff) if tracked.derived is not None else ():
        uow.record(tracked.type(verb), tracked.entity, subject, diff)


def record_verb(
    uow: UnitOfWork, tracked: Tracked, row: Row[Any], verb: str, diff: Mapping[str, Any]
) -> None:
    """An event of its own kind about the row (`crm.company.lexware_linked`)."""
    uow.record(tracked.type(verb), tracked.entity, _subject(tracked, row), diff)


def record_update(
    uow: UnitOfWork, tracked: Tracked, row: Row[Any], diff: Mapping[str, Any]
) -> None:
    """An update event whose changes the caller knows already."""
    uow.record(tracked.type(tracked.updated), tracked.entity, _subject(tracked, row), diff)


def _subject(tracked: Tracked, row: Row[Any]) -> uuid.UUID:
    return uuid.UUID(str(getattr(row, tracked.subject)))
