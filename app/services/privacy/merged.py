"""The values of the records merged into a person (app/services/merges): their rows are gone,
but what they held lives on in their events and in texts that named them (an activity moved
to the survivor that says "Anruf Jon Doe"). The erasure must scrub those too, so it reads
them back from the merged ids' own events: the names, LinkedIn address, e-mails and phones
each event's `changes` carried (field -> [old, new], e-mail and phone lists as lists).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.data.unit_of_work import UnitOfWork
from app.services.privacy.rules import PersonalValues, personal_values
from models import CrmEvent

_NAME_FIELDS = {"firstName": "first", "lastName": "last", "linkedinUrl": "linkedin"}
_LIST_FIELDS = {"email": "emails", "emails": "emails", "phone": "phones", "phones": "phones"}


@dataclass
class _Seen:
    """One merged record's values, as its events showed them over time."""

    first: list[str] = field(default_factory=list)
    last: list[str] = field(default_factory=list)
    linkedin: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)

    def add(self, kind: str, values: Iterable[str]) -> None:
        bucket: list[str] = getattr(self, kind)
        bucket.extend(v for v in values if v and v not in bucket)


def _strings(value: Any) -> list[str]:
    """Every string inside a JSON value (an e-mail list may hold objects with a type)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() if key in _LIST_FIELDS for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def harvest(changes: Any, seen: _Seen) -> None:
    if not isinstance(changes, dict):
        return
    for key, change in changes.items():
        if key in _NAME_FIELDS:
            seen.add(_NAME_FIELDS[key], _strings(change))
        elif key in _LIST_FIELDS:
            seen.add(_LIST_FIELDS[key], _strings(change))


def _values_of(seen: _Seen) -> list[PersonalValues]:
    """Each first/last name the record had, with all its other values."""
    firsts: list[str | None] = [*seen.first] or [None]
    links: list[str | None] = [*seen.linkedin] or [None]
    return [
        personal_values(first, last, link, seen.emails, seen.phones)
        for first in firsts
        for last in seen.last
        for link in links
    ]


async def merged_values(uow: UnitOfWork, merged_ids: Collection[uuid.UUID]) -> list[PersonalValues]:
    """The values the records merged into the person held, read from their events."""
    if not merged_ids:
        return []
    statement = (
        sa.select(col(CrmEvent.entity_id), col(CrmEvent.changes))
        .where(col(CrmEvent.entity) == "contact", col(CrmEvent.entity_id).in_(sorted(merged_ids)))
        .order_by(col(CrmEvent.seq))
    )
    by_record: dict[uuid.UUID, _Seen] = {}
    for entity_id, changes in await uow.execute_rows(statement):
        harvest(changes, by_record.setdefault(entity_id, _Seen()))
    return [values for seen in by_record.values() for values in _values_of(seen)]


def united(values: Iterable[PersonalValues]) -> PersonalValues:
    """Several records' values as one set: the whole values of any, then the name parts that
    are no whole value of another."""
    whole: list[str] = []
    parts: list[str] = []
    for value in values:
        whole.extend(v for v in value.whole if v not in whole)
        parts.extend(p for p in value.parts if p not in parts)
    return PersonalValues(tuple(whole), tuple(p for p in parts if p not in whole))
