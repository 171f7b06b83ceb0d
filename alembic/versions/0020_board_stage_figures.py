"""stage_figure: the board summary's per-stage, per-currency figures, kept by triggers on deal

`pipeline { summary }` summed every deal of the pipeline on each load (264 ms at 300,000
deals). The figures it shows are now kept as the deals change: per stage and currency the
live deals' count, value sum and weighted sum (`round(value * probability / 100, 2)` per
deal, as the aggregate computed it), and the summary adds up a few rows per stage.

**Why triggers, not the services.** A deal's stage, value, currency, existence or trash state
changes on many paths: create, update, moveDealToStage, delete (to the trash), restore, purge
and the retention cron, merges, erasure, a stage's removal (its deals move), a pipeline's
deletion (its deals go by the foreign key's cascade, which no service statement sees), and
whatever path is added next; `bench/generate.py` loads with COPY. A statement-level trigger
with transition tables sees every one of them, in the same transaction as the write (a
frontend that moves a card and reloads reads figures that include its move), once per
statement however many deals it changes.

**No hot row.** A (stage, currency) is spread over several rows. A writer adds its change to
a row no other transaction holds (`FOR UPDATE SKIP LOCKED`) or, when every row is held,
inserts a new one: two transactions writing deals into one stage never wait for each other,
and the rows of a (stage, currency) number at most the writers that ever held one at the same
time. Rows may sum to zero deals (the reader leaves those currencies out).

**The weighted sum and a stage's probability.** A change of probability re-weights every
deal of the stage: its trigger recounts the stage from its deals (and leaves one row per
currency). A writer takes a shared advisory lock on the stage before it reads the probability;
the recount takes it exclusively, so it waits for the writers that read the old probability
to end, and the writers after it read the new one (READ COMMITTED, the server's level: each
statement sees what committed before it). Shared locks do not wait for each other.

The functions run with the caller's rights (`crm_tenant` under row-level security:
`stage_figure` has the same policy and grants as every tenant table, app.data.rights).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.data.rights import secure_tenant_table

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "stage_figure"
# The advisory lock of a stage's probability: (this class, the stage id's hash).
PROBABILITY_LOCK = "hashtext('crm:stage-probability'), hashtext({stage}::text)"

FUNCTIONS = [
    # One deal's change in a stage: +1 and its value where it arrived, -1 where it left.
    """
CREATE TYPE crm_deal_in_stage AS (
  tenant_id uuid, stage_id uuid, currency text, deals integer, value numeric)""",
    f"""
CREATE FUNCTION crm_add_to_stage_figures(changes crm_deal_in_stage[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  figure record;
BEGIN
  IF cardinality(changes) = 0 THEN
    RETURN;
  END IF;
  -- Shared: writers do not wait for each other; a change of probability waits for them.
  PERFORM pg_advisory_xact_lock_shared({PROBABILITY_LOCK.format(stage="s.stage_id")})
  FROM (SELECT DISTINCT c.stage_id FROM unnest(changes) c ORDER BY 1) s;
  FOR figure IN
    SELECT c.tenant_id, c.stage_id, c.currency, sum(c.deals) AS deals,
           sum(c.deals * c.value) AS value_sum,
           sum(c.deals * round(c.value * s.probability / 100, 2)) AS weighted_sum
    FROM unnest(changes) c
    -- A stage deleted in this statement (its pipeline's) took its figures with it.
    JOIN pipeline_stage s ON s.id = c.stage_id AND s.tenant_id = c.tenant_id
    GROUP BY c.tenant_id, c.stage_id, c.currency
    HAVING sum(c.deals) <> 0 OR sum(c.deals * c.value) <> 0
        OR sum(c.deals * round(c.value * s.probability / 100, 2)) <> 0
    ORDER BY c.tenant_id, c.stage_id, c.currency
  LOOP
    UPDATE stage_figure f
    SET deal_count = f.deal_count + figure.deals,
        value_sum = f.value_sum + figure.value_sum,
        weighted_sum = f.weighted_sum + figure.weighted_sum
    WHERE f.id = (
      SELECT held.id FROM stage_figure held
      WHERE held.tenant_id = figure.tenant_id AND held.stage_id = figure.stage_id
        AND held.currency = figure.currency
      LIMIT 1 FOR UPDATE SKIP LOCKED);
    IF NOT FOUND THEN  -- every row of it is held by another writer (or there is none yet)
      INSERT INTO stage_figure (tenant_id, stage_id, currency, deal_count, value_sum,
                                weighted_sum)
      VALUES (figure.tenant_id, figure.stage_id, figure.currency, figure.deals,
              figure.value_sum, figure.weighted_sum);
    END IF;
  END LOOP;
END $$""",
    # A trashed deal counts nowhere (the tenant filter hides it from the board).
    """
CREATE FUNCTION crm_deal_stage_figures() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM crm_add_to_stage_figures(ARRAY(
      SELECT ROW(n.tenant_id, n.stage_id, n.currency, 1, n.value)::crm_deal_in_stage
      FROM new_deals n WHERE n.deleted_at IS NULL));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM crm_add_to_stage_figures(ARRAY(
      SELECT ROW(o.tenant_id, o.stage_id, o.currency, -1, o.value)::crm_deal_in_stage
      FROM old_deals o WHERE o.deleted_at IS NULL));
  ELSE
    PERFORM crm_add_to_stage_figures(ARRAY(
      SELECT ROW(o.tenant_id, o.stage_id, o.currency, -1, o.value)::crm_deal_in_stage
      FROM old_deals o JOIN new_deals n ON n.id = o.id
      WHERE o.deleted_at IS NULL AND (n.deleted_at IS NOT NULL
        OR (n.stage_id, n.currency, n.value) IS DISTINCT FROM (o.stage_id, o.currency, o.value))
      UNION ALL
      SELECT ROW(n.tenant_id, n.stage_id, n.currency, 1, n.value)::crm_deal_in_stage
      FROM old_deals o JOIN new_deals n ON n.id = o.id
      WHERE n.deleted_at IS NULL AND (o.deleted_at IS NOT NULL
        OR (n.stage_id, n.currency, n.value) IS DISTINCT FROM (o.stage_id, o.currency, o.value))
    ));
  END IF;
  RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION crm_stage_probability_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- Exclusive: the writers that read the old probability end first; later ones read the new.
  PERFORM pg_advisory_xact_lock({PROBABILITY_LOCK.format(stage="NEW.id")});
  DELETE FROM stage_figure WHERE tenant_id = NEW.tenant_id AND stage_id = NEW.id;
  INSERT INTO stage_figure (tenant_id, stage_id, currency, deal_count, value_sum, weighted_sum)
  SELECT d.tenant_id, d.stage_id, d.currency, count(*), sum(d.value),
         sum(round(d.value * NEW.probability / 100, 2))
  FROM deal d
  WHERE d.tenant_id = NEW.tenant_id AND d.stage_id = NEW.id AND d.deleted_at IS NULL
  GROUP BY d.tenant_id, d.stage_id, d.currency;
  RETURN NULL;
END $$""",
]

TRIGGERS = [
    "CREATE TRIGGER stage_figures_insert AFTER INSERT ON deal "
    "REFERENCING NEW TABLE AS new_deals "
    "FOR EACH STATEMENT EXECUTE FUNCTION crm_deal_stage_figures()",
    "CREATE TRIGGER stage_figures_update AFTER UPDATE ON deal "
    "REFERENCING OLD TABLE AS old_deals NEW TABLE AS new_deals "
    "FOR EACH STATEMENT EXECUTE FUNCTION crm_deal_stage_figures()",
    "CREATE TRIGGER stage_figures_delete AFTER DELETE ON deal "
    "REFERENCING OLD TABLE AS old_deals "
    "FOR EACH STATEMENT EXECUTE FUNCTION crm_deal_stage_figures()",
    "CREATE TRIGGER stage_figures_probability AFTER UPDATE OF probability ON pipeline_stage "
    "FOR EACH ROW WHEN (OLD.probability IS DISTINCT FROM NEW.probability) "
    "EXECUTE FUNCTION crm_stage_probability_changed()",
]

BACKFILL = """
INSERT INTO stage_figure (tenant_id, stage_id, currency, deal_count, value_sum, weighted_sum)
SELECT d.tenant_id, d.stage_id, d.currency, count(*), sum(d.value),
       sum(round(d.value * s.probability / 100, 2))
FROM deal d JOIN pipeline_stage s ON s.id = d.stage_id AND s.tenant_id = d.tenant_id
WHERE d.deleted_at IS NULL
GROUP BY d.tenant_id, d.stage_id, d.currency"""


def _schema() -> str:
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one()
    return '"' + str(schema).replace('"', '""') + '"'


def upgrade() -> None:
    # No deal or probability write lands between the triggers and the backfill (writers in
    # flight end first; the next ones wait for this transaction and then fire the triggers).
    op.execute("LOCK TABLE deal, pipeline_stage IN SHARE ROW EXCLUSIVE MODE")
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("deal_count", sa.BigInteger(), nullable=False),
        sa.Column("value_sum", sa.Numeric(30, 2), nullable=False),
        sa.Column("weighted_sum", sa.Numeric(30, 2), nullable=False),
        sa.ForeignKeyConstraint(
            ["stage_id", "tenant_id"],
            ["pipeline_stage.id", "pipeline_stage.tenant_id"],
            name=op.f("fk_stage_figure_stage_id_pipeline_stage"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_stage_figure_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_figure")),
    )
    op.create_index(
        op.f("ix_stage_figure_tenant_id_stage_id"), TABLE, ["tenant_id", "stage_id", "currency"]
    )
    secure_tenant_table(op.execute, TABLE, schema=_schema())
    for statement in FUNCTIONS + TRIGGERS:
        op.execute(statement)
    # The triggers run as the writer (crm_tenant) and call this helper: a database that revokes
    # EXECUTE from PUBLIC must still let the tenant's writes through.
    op.execute("GRANT EXECUTE ON FUNCTION crm_add_to_stage_figures(crm_deal_in_stage[]) TO crm_tenant")
    op.execute(BACKFILL)


def downgrade() -> None:
    op.execute("DROP TRIGGER stage_figures_probability ON pipeline_stage")
    for trigger in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER stage_figures_{trigger} ON deal")
    op.execute("DROP FUNCTION crm_stage_probability_changed()")
    op.execute("DROP FUNCTION crm_deal_stage_figures()")
    op.execute("DROP FUNCTION crm_add_to_stage_figures(crm_deal_in_stage[])")
    op.execute("DROP TYPE crm_deal_in_stage")
    op.drop_table(TABLE)
