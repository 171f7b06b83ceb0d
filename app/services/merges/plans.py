"""How the values of several records become one survivor's, as plans the merge's statements
carry out (pure, no I/O; the rules they follow: rules.py): which e-mails and phones move and
which are duplicates, which owner rows stay with which role, which relationships move and which
are dropped."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.errors import Conflict
from app.services.contact_info.rules import MAX_VALUES, ValueKind
from app.services.merges.rules import ROLE_STRENGTH, MergeRequest
from models import OwnerRole


def stronger(a: OwnerRole, b: OwnerRole) -> OwnerRole:
    return a if ROLE_STRENGTH.index(a) <= ROLE_STRENGTH.index(b) else b


@dataclass(frozen=True)
class ValuePlan:
    """E-mails or phones: which rows move to the survivor (and whether one becomes its
    primary) and which are dropped as duplicates."""

    moved: list[uuid.UUID]
    dropped: list[uuid.UUID]
    new_primary: uuid.UUID | None


def plan_values(
    kind: ValueKind[Any], column: str, request: MergeRequest, rows: Sequence[Any]
) -> ValuePlan:
    """The survivor's values stay; a merged record's value joins unless the survivor (or an
    earlier merged record) has it already. Merged records in the order given, each record's
    primary first, then oldest first."""
    order = {record: n for n, record in enumerate(request.ids)}
    ranked = sorted(
        rows, key=lambda v: (order[getattr(v, column)], not v.is_primary, v.created_at, v.id)
    )
    seen: set[str] = set()
    moved: list[uuid.UUID] = []
    dropped: list[uuid.UUID] = []
    has_primary = any(v.is_primary for v in rows if getattr(v, column) == request.survivor_id)
    new_primary = None
    for value in ranked:
        key = value_key(kind, value)
        mine = getattr(value, column) == request.survivor_id
        if mine:
            seen.add(key)
        elif key in seen:
            dropped.append(value.id)
        else:
            seen.add(key)
            moved.append(value.id)
            if not has_primary and value.is_primary:
                new_primary, has_primary = value.id, True
    if not has_primary and moved:
        new_primary = moved[0]
    if len(seen) > MAX_VALUES:  # a record's lists are bounded (the query cost counts on it)
        raise Conflict(
            f"Merged, the record would have {len(seen)} different {kind.field}; it can hold at "
            f"most {MAX_VALUES}. Remove some from the records first.",
            field=kind.field,
        )
    return ValuePlan(moved, dropped, new_primary)


def value_key(kind: ValueKind[Any], value: Any) -> str:
    """What makes two values one: an e-mail ignoring case; a phone by its E.164 form where it
    has one (`+49 711 12340` = `0711 12340`), else by its digits."""
    e164 = getattr(value, "e164", None)  # phones' stored E.164 form (NULL: not readable as one)
    if e164:
        return f"e164:{e164}"
    return kind.same(getattr(value, kind.value))


@dataclass(frozen=True)
class OwnerPlan:
    moved: dict[uuid.UUID, OwnerRole]  # owner rows re-pointed, with the role they keep
    raised: dict[uuid.UUID, OwnerRole]  # the survivor's owner rows that get a stronger role
    dropped: list[uuid.UUID]


def plan_owners(column: str, request: MergeRequest, rows: Sequence[Any]) -> OwnerPlan:
    """One owner row per user on the survivor, with the strongest role any record gave them:
    the survivor's own row if it has one, else the first merged record's."""
    order = {record: n for n, record in enumerate(request.ids)}
    by_user: dict[uuid.UUID, list[Any]] = {}
    for row in sorted(rows, key=lambda r: (order[getattr(r, column)], r.id)):
        by_user.setdefault(row.user_id, []).append(row)
    moved: dict[uuid.UUID, OwnerRole] = {}
    raised: dict[uuid.UUID, OwnerRole] = {}
    dropped: list[uuid.UUID] = []
    for owned in by_user.values():
        role = owned[0].role
        for row in owned[1:]:
            role = stronger(role, row.role)
        kept, *rest = owned
        if getattr(kept, column) == request.survivor_id:
            if role != kept.role:
                raised[kept.id] = role
        else:
            moved[kept.id] = role
        dropped += [row.id for row in rest]
    return OwnerPlan(moved, raised, dropped)


@dataclass(frozen=True)
class RelationshipPlan:
    moved: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID]]  # id -> (from, to) after the merge
    dropped: list[uuid.UUID]


def plan_relationships(request: MergeRequest, rows: Sequence[Any]) -> RelationshipPlan:
    """Relationships of the records with the merged ids read as the survivor: one that would
    relate the survivor to itself is dropped, and so is one whose pair and type another kept
    one has (the survivor's own first, then the oldest)."""
    merged = set(request.merged_ids)

    def survivor_for(company: uuid.UUID) -> uuid.UUID:
        return request.survivor_id if company in merged else company

    def untouched_first(row: Any) -> tuple[bool, Any, Any]:
        touched = row.from_company_id in merged or row.to_company_id in merged
        return touched, row.created_at, row.id

    seen: set[tuple[uuid.UUID, uuid.UUID, uuid.UUID]] = set()
    moved: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID]] = {}
    dropped: list[uuid.UUID] = []
    for row in sorted(rows, key=untouched_first):
        source, target = survivor_for(row.from_company_id), survivor_for(row.to_company_id)
        pair = (min(source, target), max(source, target), row.relationship_type_id)
        if source == target or pair in seen:
            dropped.append(row.id)
            continue
        seen.add(pair)
        if (source, target) != (row.from_company_id, row.to_company_id):
            moved[row.id] = (source, target)
    return RelationshipPlan(moved, dropped)
