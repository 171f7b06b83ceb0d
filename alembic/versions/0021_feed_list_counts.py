"""list_count: the live rows of companies and contacts per tenant, kept by triggers

An unfiltered list's `totalCount` (`companies(first: 50) { totalCount }`) counted the tenant's
rows on every request: `count(*)` with the tenant filter's `deleted_at IS NULL` reads every
live row of the tenant (11.8 ms at 100,000 companies against 6.2 ms at 2,000; an index-only
scan of a partial index still reads 100,000 index entries). The count is now kept as rows are
written, and the list reads a handful of rows (app/data/list_counts.py); a filtered list still
counts its rows.

**Why triggers.** A record enters or leaves the count on many paths: create, delete to the
trash, restore, purge and the retention cron (trashed rows: no change), merges, erasure,
`bench/generate.py`'s COPY, and whatever path comes next. Statement triggers with transition
tables see inserts and deletes once per statement however many rows it writes; a row trigger
sees a move into or out of the trash (`deleted_at` set or cleared), its WHEN clause keeping
every other update free of it. Each runs in the writing transaction: a list read after a
write that committed counts it.

**No hot row.** A tenant's table is spread over several rows. A writer adds its change to a row
no other transaction holds (`FOR UPDATE SKIP LOCKED`) or, when every row is held, inserts a
new one: two transactions creating companies in one tenant never wait for each other, and the
rows number at most the writers that ever held one at the same time.

The functions run with the caller's rights (`crm_tenant` under row-level security:
`list_count` has the same policy and grants as every tenant table, app.data.rights).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 23:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.data.rights import secure_tenant_table

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "list_count"
COUNTED = ("company", "contact")  # models.list_counts.COUNTED_TABLES as of this revision

FUNCTIONS = [
    """
CREATE FUNCTION crm_add_to_list_count(tenant uuid, counted_table text, change bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE list_count c SET live_rows = c.live_rows + change
  WHERE c.id = (
    SELECT held.id FROM list_count held
    WHERE held.tenant_id = tenant AND held.counted = counted_table
    LIMIT 1 FOR UPDATE SKIP LOCKED);
  IF NOT FOUND THEN  -- every row of it is held by another writer (or there is none yet)
    BEGIN
      INSERT INTO list_count (tenant_id, counted, live_rows)
      VALUES (tenant, counted_table, change);
    EXCEPTION WHEN foreign_key_violation THEN
      NULL;  -- the tenant is being deleted: its cascade took the counts before these rows
    END;
  END IF;
END $$""",
    # Rows inserted or deleted by one statement; trashed rows count nowhere.
    """
CREATE FUNCTION crm_count_written_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  change record;
BEGIN
  IF TG_OP = 'INSERT' THEN
    FOR change IN
      SELECT n.tenant_id, count(*) AS live FROM new_rows n WHERE n.deleted_at IS NULL
      GROUP BY n.tenant_id ORDER BY n.tenant_id
    LOOP
      PERFORM crm_add_to_list_count(change.tenant_id, TG_TABLE_NAME, change.live);
    END LOOP;
  ELSE
    FOR change IN
      SELECT o.tenant_id, count(*) AS live FROM old_rows o WHERE o.deleted_at IS NULL
      GROUP BY o.tenant_id ORDER BY o.tenant_id
    LOOP
      PERFORM crm_add_to_list_count(change.tenant_id, TG_TABLE_NAME, -change.live);
    END LOOP;
  END IF;
  RETURN NULL;
END $$""",
    # A row moved into the trash (-1) or out of it (+1).
    """
CREATE FUNCTION crm_count_trashed_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM crm_add_to_list_count(
    NEW.tenant_id, TG_TABLE_NAME, CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END);
  RETURN NULL;
END $$""",
]


def _triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER list_count_insert AFTER INSERT ON {table} "
        "REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION crm_count_written_rows()",
        f"CREATE TRIGGER list_count_delete AFTER DELETE ON {table} "
        "REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION crm_count_written_rows()",
        f"CREATE TRIGGER list_count_trash AFTER UPDATE OF deleted_at ON {table} "
        "FOR EACH ROW WHEN ((OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)) "
        "EXECUTE FUNCTION crm_count_trashed_row()",
    ]


def _backfill(table: str) -> str:
    return f"""
INSERT INTO list_count (tenant_id, counted, live_rows)
SELECT tenant_id, '{table}', count(*) FROM {table} WHERE deleted_at IS NULL GROUP BY tenant_id"""


def _schema() -> str:
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one()
    return '"' + str(schema).replace('"', '""') + '"'


def upgrade() -> None:
    # No write lands between the triggers and the backfill (writers in flight end first; the
    # next ones wait for this transaction and then fire the triggers).
    op.execute(f"LOCK TABLE {', '.join(COUNTED)} IN SHARE ROW EXCLUSIVE MODE")
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("counted", sa.String(length=63), nullable=False),
        sa.Column("live_rows", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_list_count_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_count")),
    )
    op.create_index(op.f("ix_list_count_tenant_id_counted"), TABLE, ["tenant_id", "counted"])
    secure_tenant_table(op.execute, TABLE, schema=_schema())
    for statement in FUNCTIONS:
        op.execute(statement)
    # The triggers run as the writer (crm_tenant) and call this helper: a database that revokes
    # EXECUTE from PUBLIC must still let the tenant's writes through.
    op.execute("GRANT EXECUTE ON FUNCTION crm_add_to_list_count(uuid, text, bigint) TO crm_tenant")
    for table in COUNTED:
        for statement in _triggers(table):
            op.execute(statement)
        op.execute(_backfill(table))


def downgrade() -> None:
    for table in COUNTED:
        for trigger in ("insert", "delete", "trash"):
            op.execute(f"DROP TRIGGER list_count_{trigger} ON {table}")
    op.execute("DROP FUNCTION crm_count_trashed_row()")
    op.execute("DROP FUNCTION crm_count_written_rows()")
    op.execute("DROP FUNCTION crm_add_to_list_count(uuid, text, bigint)")
    op.drop_table(TABLE)
