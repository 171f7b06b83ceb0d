"""Reading tombstones: the survivor a merged id stands for, and the ids a record absorbed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.data import records
from app.data.records import Entity, RowT
from app.data.tenancy import TenantScope
from app.errors import NotFound
from models import MergedRecord


async def get_following_merges(
    scope: TenantScope, entity: Entity[RowT], kind: str, row_id: uuid.UUID
) -> RowT:
    """The record with this id; for an id merged away, the record it was merged into (links
    held by other systems still resolve). The tombstone is read only when the id is not a
    live record: a live record costs nothing more."""
    try:
        return await records.get_row(scope, entity, row_id)
    except NotFound:
        survivor = (
            sa.select(col(MergedRecord.survivor_id))
            .where(col(MergedRecord.entity) == kind, col(MergedRecord.merged_id) == row_id)
            .scalar_subquery()
        )
        found = await records.find_row(scope, entity, entity.id == survivor)
        if found is None:
            raise
        return found


async def merged_from(
    scope: TenantScope, kind: str, survivor_ids: Sequence[uuid.UUID]
) -> list[list[uuid.UUID]]:
    """Per survivor id, the ids merged into it, oldest merge first (one statement a batch)."""
    model = MergedRecord
    statement = (
        sa.select(col(model.survivor_id), col(model.merged_id))
        .where(col(model.entity) == kind, col(model.survivor_id).in_(survivor_ids))
        .order_by(col(model.merged_at), col(model.merged_id))
    )
    found: dict[Any, list[uuid.UUID]] = {}
    async with scope.reading() as reads:
        for survivor, merged in await reads.execute_rows(statement):
            found.setdefault(survivor, []).append(merged)
    return [found.get(survivor, []) for survivor in survivor_ids]
