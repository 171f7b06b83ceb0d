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

`search_entry` (0014) gets the trash in each branch: a trashed record (a contract of a
trashed company, an e-mail or phone of a trashed record) is found by no search.

Row-level security stays as it is (tenant only): restore and purge write trashed rows as
`crm_tenant`, so the trash is the app's filter, not a policy. `crm_system` may now read deal
and contract as it reads company, contact and activity: the retention cron asks across
tenants which have expired trash (then purges each as that tenant).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 17:30:00
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

from models.roles import SYSTEM_ROLE

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("company", "contact", "deal", "activity", "contract")
LEXWARE_LINKED = ("company", "contact")
SYSTEM_READS = ("deal", "contract")  # crm_system reads company, contact, activity since 0008
_LINKED = "lexware_contact_id IS NOT NULL"


def _search_revision() -> ModuleType:
    """Revision 0014, whose view this one redefines (its branches, each with a condition more)."""
    path = Path(__file__).with_name("0014_search.py")
    spec = importlib.util.spec_from_file_location("crm_revision_0014", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _live(table: str, key: str) -> str:
    return (
        f"EXISTS (SELECT 1 FROM {table} live WHERE live.id = {key} "
        "AND live.tenant_id = branch.tenant_id AND live.deleted_at IS NULL)"
    )


# What each branch of `search_entry` adds: its record is not in the trash (a contract's
# company neither; an e-mail's or phone's record neither). Conditions on uuids and a NULL
# test, next to the trigram conditions: the index plans stay as they were.
def _not_trashed(table: str, extra: str) -> str:
    if table in ("contact_email", "contact_phone"):
        owner = "company" if extra == "company_id" else "contact"
        return _live(owner, f"branch.{extra}")
    if table == "contract":
        return f"branch.deleted_at IS NULL AND {_live('company', 'branch.company_id')}"
    return "branch.deleted_at IS NULL"


def search_view(search: ModuleType, *, trash: bool) -> str:
    """0014's view, with the trash's condition in each branch (`trash`) or without."""
    branches = []
    for branch in search.BRANCHES:
        sql = search._branch(*branch)
        if trash:
            table, extra = branch[2], branch[5]
            sql = sql.replace(f" FROM {table} ", f" FROM {table} branch ", 1)
            sql += f" AND {_not_trashed(table, extra)}"
        branches.append(sql)
    return "CREATE OR REPLACE VIEW search_entry AS\n" + "\nUNION ALL\n".join(branches)


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
    for table in SYSTEM_READS:
        op.execute(f"GRANT SELECT ON {table} TO {SYSTEM_ROLE}")
    op.execute(search_view(_search_revision(), trash=True))
    # CONCURRENTLY: the tables stay writable while an index builds (as in 0004 and 0014).
    with op.get_context().autocommit_block():
        for table in TABLES:
            for name, definition in _indexes(table).items():
                op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} {definition}")
        for table in LEXWARE_LINKED:
            _swap_lexware_link(table, f"{_LINKED} AND deleted_at IS NULL")
    # A column added has no statistics until the next ANALYZE: the planner then takes
    # `deleted_at IS NULL`, which every read now has, for 0.5% of the rows (measured at
    # 100,000 companies: a nested loop from all contacts, 3.5 s instead of 28 ms).
    op.execute(f"ANALYZE {', '.join(TABLES)}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for table in LEXWARE_LINKED:  # fails if a trashed and a live record share a link
            _swap_lexware_link(table, _LINKED)
        for table in TABLES:
            for name in _indexes(table):
                op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    op.execute(search_view(_search_revision(), trash=False))
    for table in SYSTEM_READS:
        op.execute(f"REVOKE SELECT ON {table} FROM {SYSTEM_ROLE}")
    for table in TABLES:
        op.drop_constraint(f"fk_{table}_deleted_by_user", table, type_="foreignkey")
        op.drop_column(table, "deleted_by")
        op.drop_column(table, "deleted_at")
