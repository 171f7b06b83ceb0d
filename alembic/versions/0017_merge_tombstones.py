"""merged_record: the tombstones merges leave, one per merged company or contact id

`company(id: mergedId)` answers the survivor; `mergedFrom` lists a survivor's tombstones. The
merged rows themselves are deleted by the merge (app/services/merges), so a tombstone holds no
personal data: ids, the time and the acting user's id. Tenant-scoped with row-level security
(app.data.rights): the tenant role reads and writes its tenant's tombstones.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.data.rights import secure_tenant_table

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "merged_record"


def _schema() -> str:
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one()
    return '"' + str(schema).replace('"', '""') + '"'


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("merged_id", sa.Uuid(), nullable=False),
        sa.Column("entity", sa.String(length=10), nullable=False),
        sa.Column("survivor_id", sa.Uuid(), nullable=False),
        sa.Column(
            "merged_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("merged_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "entity IN ('company', 'contact')", name=op.f("ck_merged_record_entity")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_merged_record_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "merged_id", name=op.f("pk_merged_record")),
    )
    op.create_index(
        op.f("ix_merged_record_tenant_id_survivor_id"), TABLE, ["tenant_id", "survivor_id"]
    )
    secure_tenant_table(op.execute, TABLE, schema=_schema())


def downgrade() -> None:
    op.drop_table(TABLE)
