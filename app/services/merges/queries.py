"""Reading tombstones: the survivor a merged id stands for, and the ids a record absorbed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlmodel import col

from app.data import records
from app.data.records import Entity, RowT
from app.data.tenancy import TenantScope
from app.errors import NotFound
from app.services.rollups.queries import COMPANY_ROLLUPS, CONTACT_ROLLUPS, Rollup
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


@dataclass(frozen=True)
class MergedFrom(Rollup):
    """`mergedFrom` as a column of the statement that reads the records: the ids merged into
    each one, oldest merge first ('{}' for none). The compiled path selects it as it selects a
    roll-up figure (resolvers/compiled), and the executor's loader reads the same expression,
    so the two cannot disagree."""

    def expression(self, target: Any) -> Any:
        model = MergedRecord
        # A constant written into the SQL: the compiled path binds only its named parameters.
        kind: Any = sa.literal_column(f"'{self.owner.model.__tablename__}'")
        merged = col(model.merged_id)
        ids = sa.select(
            sa.func.array_agg(aggregate_order_by(merged, col(model.merged_at), merged))
        ).where(col(model.entity) == kind, col(model.survivor_id) == target.id)
        none = sa.literal_column("'{}'::uuid[]", type_=ARRAY(sa.Uuid()))
        return sa.func.coalesce(ids.scalar_subquery(), none, type_=ARRAY(sa.Uuid()))

    @property
    def as_read(self) -> bool:
        return True

    def convert(self, value: Any) -> Any:
        return value

    @property
    def label(self) -> str:
        return "merged_from"


async def merged_from(
    scope: TenantScope, column: MergedFrom, survivor_ids: Sequence[uuid.UUID]
) -> list[list[uuid.UUID]]:
    """Per record id, the ids merged into it (one statement a batch)."""
    target = column.owner.model
    statement = sa.select(col(target.id), column.expression(target)).where(
        col(target.id).in_(set(survivor_ids))
    )
    async with scope.reading() as reads:
        found = {row[0]: list(row[1]) for row in await reads.execute_rows(statement)}
    return [found.get(record_id, []) for record_id in survivor_ids]


COMPANY_MERGED_FROM = MergedFrom(COMPANY_ROLLUPS, "merged_from")
CONTACT_MERGED_FROM = MergedFrom(CONTACT_ROLLUPS, "merged_from")
