"""Tombstones of merged records: which live record a merged company or contact became.

A merge (app/services/merges) deletes the merged rows once everything pointing at them points
at the survivor, and leaves one row here per merged id: `company(id: mergedId)` answers the
survivor, and `mergedFrom` lists what a record absorbed. No personal data lives here (ids,
the time and the acting user's id only), so erasing a person never has to look in it. Chains
are flattened: when a survivor is merged in its turn, its tombstones point at the new one.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from models.base import TenantScoped

MERGEABLE = ("company", "contact")


class MergedRecord(TenantScoped, table=True):
    __tablename__ = "merged_record"
    __table_args__ = (
        sa.CheckConstraint(f"entity IN {MERGEABLE!r}", name="entity"),
        # mergedFrom: the tombstones of one survivor (and the chain's re-pointing).
        sa.Index("ix_merged_record_tenant_id_survivor_id", "tenant_id", "survivor_id"),
    )

    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE", primary_key=True)
    merged_id: uuid.UUID = Field(primary_key=True)
    entity: str = Field(max_length=10)
    survivor_id: uuid.UUID
    merged_at: datetime | None = Field(
        default=None,
        sa_type=sa.DateTime(timezone=True),
        nullable=False,
        sa_column_kwargs={"server_default": sa.func.now()},
    )
    # The user who merged (no foreign key: a tombstone outlives its user's membership).
    merged_by: uuid.UUID | None = None
