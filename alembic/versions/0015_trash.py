"""Trash: `deleted_at` and `deleted_by` on company, contact, deal, activity and contract

A delete moves the record to the trash (models.base.Trashable); the tenant filter hides it
(app.data.tenant_filter). Per table:

- `deleted_at timestamptz NULL`, `deleted_by uuid NULL` (nullable without a default: no
  rewrite of the table), `deleted_by` -> user ON DELETE SET NULL (only the column).
- `ix_<table>_trashed (tenant_id, deleted_at, id) WHERE deleted_at IS NOT NULL`: the trash
  list (most recent first) and the retention cron; the index holds the trashed rows only.
- `ix_<table>_deleted_by (tenant_id, deleted_by) WHERE deleted_by IS NOT NULL`: the index of
  the foreign key (a user's removal sets their `deleted_by` to NULL without reading the
  table; the key's lookup implies the predicate). A whole index would be one more
  tenant-wide index of NULLs, which the planner took for tenant scans.
- The Lexware links of companies and contacts are unique among live records only: a
  trashed record keeps its link without holding it against another record.

Row-level security stays as it is (tenant only): restore and purge write trashed rows as
`crm_tenant`, so the trash is the app's filter, not a policy.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 17:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("company", "contact", "deal", "activity", "contract")
LEXWARE_LINKED = ("company", "contact")
_LINKED = "lexware_contact_id IS NOT NULL"


def _indexes(table: str) -> dict[str, str]:
    return {
        f"ix_{table}_trashed": "(tenant_id, deleted_at, id) WHERE deleted_at IS NOT NULL",
        f"ix_{table}_deleted_by": "(tenant_id, deleted_by) WHERE deleted_by IS NOT NULL",
    }


def _lexware_link(table: str, name: str, where: str) -> str:
    return (
        f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table} "
        f"(tenant_id, lexware_contact_id) WHERE {where}"
    )


def _swap_lexware_link(table: str, where: str) -> None:
    """The unique index under a new condition, built beside the old one (the table stays
    writable and unique all along), then put in its place."""
    name = f"uq_{table}_tenant_id_lexware_contact_id"
    op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}_next")
    op.execute(_lexware_link(table, f"{name}_next", where))
    op.execute(f"DROP INDEX CONCURRENTLY {name}")
    op.execute(f"ALTER INDEX {name}_next RENAME TO {name}")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        op.add_column(table, sa.Column("deleted_by", sa.Uuid(), nullable=True))
        # Validated by one scan that looks nothing up: every deleted_by is NULL yet.
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_deleted_by_user "
            'FOREIGN KEY (deleted_by, tenant_id) REFERENCES "user" (id, tenant_id) '
            "ON DELETE SET NULL (deleted_by)"
        )
    # CONCURRENTLY: the tables stay writable while an index builds (as in 0004 and 0014).
    with op.get_context().autocommit_block():
        for table in TABLES:
            for name, definition in _indexes(table).items():
                op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} {definition}")
        for table in LEXWARE_LINKED:
            _swap_lexware_link(table, f"{_LINKED} AND deleted_at IS NULL")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for table in LEXWARE_LINKED:  # fails if a trashed and a live record share a link
            _swap_lexware_link(table, _LINKED)
        for table in TABLES:
            for name in _indexes(table):
                op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    for table in TABLES:
        op.drop_constraint(f"fk_{table}_deleted_by_user", table, type_="foreignkey")
        op.drop_column(table, "deleted_by")
        op.drop_column(table, "deleted_at")
