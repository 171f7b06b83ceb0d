"""Sort keys a list seeks by under row-level security: generated key columns and their indexes

Every list statement runs as `crm_tenant` under row-level security, where PostgreSQL uses a
condition as an index condition only if each function and operator in it is LEAKPROOF.
`lower()`, `numeric` and enum comparisons are not: a deep page by name, value or status read
every earlier row of the tenant and filtered it out (a page at 95% of 100,000 companies by
name: 84 ms, 0.05 ms as the owner). Each such sort gets a stored generated column of a
leakproof type (models/sort_keys.py):

- `<column>_key text`: `lower(<column>)` (a contact's NAME: last name, space, first name);
- `<column>_cents bigint`: money in cents (NUMERIC(14, 2) fits exactly);
- `<column>_rank smallint`: the enum's declared order, 1, 2, ...

and every list's own sort field an index `(tenant_id, <key>, id)`, timestamps and dates
included. Indexes on what no list compares any more go: `lower(name)` of companies,
`lower(last_name), lower(first_name)` of contacts (not even the NAME order's expression),
`deal.value` (numeric); `contract (tenant_id, end_date)` gains the `id` its keyset needs.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ENTITY_STATUS = "WHEN 'ACTIVE' THEN 1 WHEN 'INACTIVE' THEN 2 WHEN 'BLOCKED' THEN 3 ELSE NULL END"
_SIZES = (
    "WHEN 'MICRO' THEN 1 WHEN 'SMALL' THEN 2 WHEN 'MEDIUM' THEN 3 WHEN 'LARGE' THEN 4 "
    "WHEN 'ENTERPRISE' THEN 5 ELSE NULL END"
)
_DEAL_STATUS = "WHEN 'OPEN' THEN 1 WHEN 'WON' THEN 2 WHEN 'LOST' THEN 3 ELSE NULL END"
_ACTIVITY_TYPE = (
    "WHEN 'NOTE' THEN 1 WHEN 'CALL' THEN 2 WHEN 'EMAIL' THEN 3 WHEN 'MEETING' THEN 4 "
    "WHEN 'TASK' THEN 5 WHEN 'FOLLOWUP' THEN 6 ELSE NULL END"
)
_CONTRACT_STATUS = (
    "WHEN 'DRAFT' THEN 1 WHEN 'ACTIVE' THEN 2 WHEN 'EXPIRED' THEN 3 WHEN 'TERMINATED' THEN 4 "
    "ELSE NULL END"
)
_CONTACT_SOURCE = (
    "WHEN 'WEBSITE' THEN 1 WHEN 'REFERRAL' THEN 2 WHEN 'EVENT' THEN 3 WHEN 'TRADE_FAIR' THEN 4 "
    "WHEN 'COLD_OUTREACH' THEN 5 WHEN 'INBOUND' THEN 6 WHEN 'PARTNER' THEN 7 "
    "WHEN 'LEXWARE_IMPORT' THEN 8 WHEN 'OTHER' THEN 9 ELSE NULL END"
)
_CENTS = "((value * 100))::bigint"

# table -> (column, type, expression): one ALTER TABLE (one rewrite) per table
COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    "company": [
        ("name_key", "text", "lower(name)"),
        ("status_rank", "smallint", f"CASE status {_ENTITY_STATUS}"),
        ("company_size_rank", "smallint", f"CASE company_size {_SIZES}"),
    ],
    "contact": [
        ("name_key", "text", "lower((last_name || ' ') || coalesce(first_name, ''))"),
        ("first_name_key", "text", "lower(first_name)"),
        ("last_name_key", "text", "lower(last_name)"),
        ("position_key", "text", "lower(position)"),
        ("department_key", "text", "lower(department)"),
        ("status_rank", "smallint", f"CASE status {_ENTITY_STATUS}"),
        # no sort: the `source` filter's form (alembic 0022 has the filters), added here so
        # that the table is rewritten once
        ("source_rank", "smallint", f"CASE source {_CONTACT_SOURCE}"),
    ],
    "deal": [
        ("title_key", "text", "lower(title)"),
        ("value_cents", "bigint", _CENTS),
        ("status_rank", "smallint", f"CASE status {_DEAL_STATUS}"),
    ],
    "activity": [
        ("subject_key", "text", "lower(subject)"),
        ("type_rank", "smallint", f"CASE type {_ACTIVITY_TYPE}"),
    ],
    "contract": [
        ("title_key", "text", "lower(title)"),
        ("value_cents", "bigint", _CENTS),
        ("status_rank", "smallint", f"CASE status {_CONTRACT_STATUS}"),
    ],
    "pipeline": [("name_key", "text", "lower(name)")],
}

# table -> the keys that get an index (tenant_id, key, id)
INDEXED: dict[str, tuple[str, ...]] = {
    "company": ("name_key", "status_rank", "company_size_rank"),
    "contact": (
        "name_key",
        "updated_at",
        "first_name_key",
        "last_name_key",
        "status_rank",
        "position_key",
        "department_key",
        "birthday",
        "source_rank",
    ),
    "deal": ("title_key", "value_cents", "status_rank", "updated_at", "closed_at"),
    "activity": ("due_at", "updated_at", "completed_at", "subject_key", "type_rank"),
    "contract": (
        "end_date",
        "created_at",
        "updated_at",
        "start_date",
        "title_key",
        "value_cents",
        "status_rank",
    ),
    "pipeline": ("name_key", "created_at", "updated_at"),
}

# The indexes the keys make useless (name -> definition, for the downgrade).
REPLACED = {
    "ix_company_tenant_id_name": "company USING btree (tenant_id, lower(name), id)",
    "ix_contact_tenant_id_name": (
        "contact USING btree (tenant_id, lower(last_name), lower(first_name), id)"
    ),
    "ix_deal_tenant_id_value": "deal USING btree (tenant_id, value, id)",
    "ix_contract_tenant_id_end_date": "contract USING btree (tenant_id, end_date)",
}


def _indexes() -> dict[str, str]:
    return {
        f"ix_{table}_tenant_id_{key}": f"{table} USING btree (tenant_id, {key}, id)"
        for table, keys in INDEXED.items()
        for key in keys
    }


def _drop_invalid(names: dict[str, str]) -> None:
    """A concurrent build that failed leaves its index INVALID; `IF NOT EXISTS` would keep it."""
    invalid = op.get_bind().execute(
        sa.text(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE NOT i.indisvalid AND c.relname = ANY(:names)"
        ),
        {"names": list(names)},
    )
    for (name,) in invalid:
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        added = ", ".join(
            # IF NOT EXISTS: the block below commits these, so a rerun after a failed index
            # build finds them
            f"ADD COLUMN IF NOT EXISTS {name} {kind} GENERATED ALWAYS AS ({expression}) STORED"
            for name, kind, expression in columns
        )
        op.execute(f"ALTER TABLE {table} {added}")
    new = _indexes()
    with op.get_context().autocommit_block():
        _drop_invalid(new)
        # the new indexes first, then the replaced ones go: no moment without an index for
        # the lists (a name replaced by its own new definition is rebuilt after its drop)
        for name, definition in new.items():
            if name not in REPLACED:
                op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")
        for name in REPLACED:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        for name, definition in new.items():
            if name in REPLACED:
                op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")
    op.execute(f"ANALYZE {', '.join(COLUMNS)}")  # the new columns' statistics (see 0015)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in _indexes():
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        for name, definition in REPLACED.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")
    for table, columns in COLUMNS.items():
        dropped = ", ".join(f"DROP COLUMN {name}" for name, _, _ in columns)
        op.execute(f"ALTER TABLE {table} {dropped}")
