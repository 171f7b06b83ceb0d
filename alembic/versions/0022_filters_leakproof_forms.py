"""Leakproof forms of the list filters (issue 25): enum ranks, cents, lowered keys, tag rows

Under row-level security a condition is an index condition only when every operator in it is
leakproof (models/sort_keys.py). The lists' filters on enums (`status IN (...)`, `type`,
`company_size`, `source`), on money (`value >= x`), on `lower(department)` and on tags
(`tag_keys @> ARRAY[key]`) were none, so a selective filter read the whole tenant. This adds:

- the filters compare the generated key columns of 0019 (`<enum>_rank`, `deal.value_cents`,
  `contact.department_key`, and `contact.source_rank`, which 0019 adds for them);
- `company_tag` / `contact_tag`: one row per record and tag key, kept by a trigger on
  `tag_keys` (a security definer: tenants may only read these rows; whoever writes the tags,
  the rows follow), backfilled here; a record's removal cascades;
- the (tenant_id, status) indexes go: an enum condition never reaches them under the policies.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.data.rights import secure_tenant_table
from models.record_tags import TAGGED

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS_INDEXES = ("company", "contact", "deal")  # ix_<table>_tenant_id_status (tenant_id, status)

# Keeps `<table>_tag` equal to the row's `tag_keys`. Static SQL per table (planned once per
# session), nothing to do for a record without tags or an update that leaves them. A security
# definer runs as the tables' owner: its search path holds only pg_catalog and, last, pg_temp,
# and the tag tables are named with their schema, so a temporary table or function a tenant's
# session creates is never what it reads, writes or calls (pg_temp searched first otherwise).
TAG_ROWS = """
CREATE FUNCTION {schema}.crm_{table}_tag_rows() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF NEW.tag_keys IS NOT DISTINCT FROM OLD.tag_keys THEN
      RETURN NULL;
    END IF;
    DELETE FROM {schema}.{table}_tag WHERE tenant_id = OLD.tenant_id AND {table}_id = OLD.id;
  END IF;
  IF cardinality(NEW.tag_keys) > 0 THEN
    INSERT INTO {schema}.{table}_tag (tenant_id, {table}_id, tag_key)
      SELECT DISTINCT NEW.tenant_id, NEW.id, k FROM unnest(NEW.tag_keys) AS k
      ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $$"""


def _schema() -> str:
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one()
    return '"' + str(schema).replace('"', '""') + '"'


def _tag_table(table: str, schema: str) -> None:
    tags = f"{table}_tag"
    op.create_table(
        tags,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column(f"{table}_id", sa.Uuid(), nullable=False),
        sa.Column("tag_key", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            [f"{table}_id", "tenant_id"],
            [f"{table}.id", f"{table}.tenant_id"],
            name=op.f(f"fk_{tags}_{table}_id_{table}"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f(f"fk_{tags}_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", f"{table}_id", "tag_key", name=op.f(f"pk_{tags}")),
    )
    op.create_index(
        f"ix_{tags}_tenant_id_tag_key", tags, ["tenant_id", "tag_key", f"{table}_id"]
    )
    # Tenants read the rows; only the trigger (as the owner) writes them.
    secure_tenant_table(op.execute, tags, tenant="SELECT", schema=schema)
    op.execute(
        f"INSERT INTO {tags} (tenant_id, {table}_id, tag_key) "
        f"SELECT DISTINCT tenant_id, id, unnest(tag_keys) FROM {table}"
    )
    op.execute(TAG_ROWS.format(schema=schema, table=table))
    op.execute(
        f"CREATE TRIGGER {table}_tag_rows AFTER INSERT OR UPDATE OF tag_keys ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {schema}.crm_{table}_tag_rows()"
    )


def upgrade() -> None:
    for table in STATUS_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_tenant_id_status")
    schema = _schema()
    for table in TAGGED:
        _tag_table(table, schema)


def downgrade() -> None:
    schema = _schema()
    for table in TAGGED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_tag_rows ON {table}")
        op.drop_table(f"{table}_tag")
        op.execute(f"DROP FUNCTION IF EXISTS {schema}.crm_{table}_tag_rows()")
    for table in STATUS_INDEXES:
        op.execute(f"CREATE INDEX ix_{table}_tenant_id_status ON {table} (tenant_id, status)")
