"""Which record a global id names: one statement for any number of ids.

The statement is a UNION ALL with one branch per kind (rules.KINDS), each `id = ANY(:ids)`
on the kind's model, so every branch gets the tenant filter and the trash filter like any
other read (another tenant's record, or one in the trash, is not found: the same answer as
an id that never existed), and is a lookup of the table's primary key: uuid equality is
leakproof, so under row-level security it stays an index condition (tests/test_node.py reads
the plan as `crm_tenant`). One more branch reads the tombstones of merged companies and
contacts (`merged_record`): a merged id names its survivor, as `company(id:)` answers it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import col

from app.data.tenancy import TenantScope
from app.services.nodes.rules import KINDS, NodeKind
from models import MergedRecord

IDS = "node_ids"


@dataclass(frozen=True)
class Located:
    """The record an id names: its kind (rules.KINDS) and its own id (the survivor's, for
    an id merged away)."""

    kind: str
    id: uuid.UUID


def _branch(kind: NodeKind, ids: Any) -> sa.Select[Any]:
    model = kind.entity.model
    record_id = col(model.id)
    statement = sa.select(
        _constant(f"'{kind.name}'", sa.Text()).label("kind"),
        record_id.label("requested"),
        record_id.label("found"),
        _constant("0", sa.Integer()).label("merged"),
    ).where(record_id == sa.any_(ids))
    for column, owner in kind.owners:
        # A value that is part of a record (an e-mail, a phone) is found only while its
        # record is: the owner's model gets the trash filter like every read of it, and the
        # correlation is a lookup of its key.
        owned_by = col(getattr(model, column))
        live = sa.exists().where(col(owner.id) == owned_by)
        statement = statement.where(sa.or_(owned_by.is_(None), live))
    return statement


def _constant(sql: str, type_: Any) -> Any:
    # Written into the SQL, not bound: the statement's parameters are the ids and the tenant.
    return sa.literal_column(sql, type_=type_)


def _tombstones(ids: Any) -> sa.Select[Any]:
    merged = col(MergedRecord.merged_id)
    return sa.select(
        sa.cast(col(MergedRecord.entity), sa.Text()).label("kind"),
        merged.label("requested"),
        col(MergedRecord.survivor_id).label("found"),
        _constant("1", sa.Integer()).label("merged"),
    ).where(merged == sa.any_(ids))


@cache
def locate_statement() -> sa.Select[Any]:
    """Built once: the ids are one array parameter, so every request shares its SQL."""
    ids = sa.bindparam(IDS, type_=ARRAY(sa.Uuid()))
    branches = [_branch(kind, ids) for kind in KINDS.values()]
    found = sa.union_all(*branches, _tombstones(ids)).subquery("found")
    return sa.select(found.c.kind, found.c.requested, found.c.found, found.c.merged)


async def locate(scope: TenantScope, ids: Sequence[uuid.UUID]) -> list[Located | None]:
    """Per id, in order, the record it names in the scope's tenant, or None (no such id,
    another tenant's, in the trash). A live record wins over a tombstone of the same id (a
    merged id is deleted, so both cannot be; the order only makes the answer certain)."""
    if not ids:
        return []
    async with scope.reading() as reads:
        rows = await reads.execute_rows(locate_statement(), {IDS: list(dict.fromkeys(ids))})
    named: dict[uuid.UUID, Located] = {}
    for row in sorted(rows, key=lambda row: -row.merged):  # tombstones first, then records
        named[row.requested] = Located(row.kind, row.found)
    return [named.get(record_id) for record_id in ids]
