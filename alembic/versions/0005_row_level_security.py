"""Row-level security behind the tenant filter: a tenant's transactions see its rows only

Every tenant transaction switches to the role `crm_tenant` (app.data.tenancy sets it with
`app.tenant_id`), a role that owns nothing and has no BYPASSRLS, so the policies below apply
to it. Sessions without a tenant (migrations, the relay, provisioning, the crons' tenant
lists) keep the connecting role, which must own the tables (it runs these migrations) or be a
superuser, and is not subject to them. A statement that went around the application's filter
(text SQL, a forgotten WHERE) still reads and writes only the tenant's rows; an INSERT of
another tenant's row fails.

The cost: under a policy PostgreSQL uses only leakproof conditions as index conditions.
`lower(name)` keyset cursors and `tags @>` filters become filters over the tenant's rows
(the tenant_id index still narrows them); equality and range conditions on plain columns
(ids, timestamps, ANY lists) keep their indexes.

PostgreSQL 16 or later (role grants WITH SET). Roles belong to the whole cluster:
`crm_tenant` is created once (or beforehand by a DBA, granted to the server's user) and kept
on downgrade.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 05:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "crm_tenant"  # app.data.tenancy.TENANT_ROLE
# Every table with a tenant_id at this revision (the relay's own `event_relay` gets a policy
# but no grant: no tenant transaction touches it); `tenant` is matched on its id, read-only.
TENANT_TABLES = (
    "account_type",
    "activity",
    "company",
    "company_owner",
    "company_relationship",
    "contact",
    "contact_email",
    "contact_owner",
    "contact_phone",
    "contract",
    "crm_event",
    "deal",
    "deal_owner",
    "deal_voucher",
    "event_counter",
    "event_relay",
    "industry",
    "lexware_account",
    "lexware_voucher",
    "pipeline",
    "pipeline_stage",
    "relationship_type",
    "user",
)
NOT_GRANTED = ("event_relay",)
# A scalar subquery: evaluated once per statement, not once per row. Unset, it fails the
# statement (current_setting without missing_ok), so a tenant role never reads unscoped.
CURRENT_TENANT = "(SELECT current_setting('app.tenant_id')::uuid)"
PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"

# Created unless it exists (a DBA may create it, and grant it, for a user without CREATEROLE);
# another database of this cluster may be creating it at the same moment.
_CREATE_ROLE = f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN
    CREATE ROLE {ROLE} NOLOGIN NOINHERIT;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END $$"""
# Switching to the role needs the SET option: the grant PostgreSQL 16 gives the creator of a
# role (with CREATEROLE) has ADMIN but not SET. Superusers may switch to any role.
_JOIN_ROLE = f"""
DO $$ BEGIN
  IF NOT pg_has_role(current_user, '{ROLE}', 'SET') THEN
    GRANT {ROLE} TO CURRENT_USER WITH INHERIT FALSE, SET TRUE;
  END IF;
EXCEPTION WHEN unique_violation THEN
  NULL;
END $$"""


def _schema() -> str:
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one()
    return '"' + str(schema).replace('"', '""') + '"'


def upgrade() -> None:
    schema = _schema()
    op.execute(_CREATE_ROLE)
    op.execute(_JOIN_ROLE)
    op.execute(f"GRANT USAGE ON SCHEMA {schema} TO {ROLE}")
    op.execute(f"GRANT SELECT ON {schema}.tenant TO {ROLE}")
    for table in TENANT_TABLES:
        if table not in NOT_GRANTED:
            op.execute(f'GRANT {PRIVILEGES} ON {schema}."{table}" TO {ROLE}')
    for table, column in (("tenant", "id"), *((t, "tenant_id") for t in TENANT_TABLES)):
        op.execute(f'ALTER TABLE {schema}."{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(
            f'CREATE POLICY tenant_rows ON {schema}."{table}" TO {ROLE} '
            f"USING ({column} = {CURRENT_TENANT}) WITH CHECK ({column} = {CURRENT_TENANT})"
        )


def downgrade() -> None:
    schema = _schema()
    for table in ("tenant", *TENANT_TABLES):
        op.execute(f'DROP POLICY tenant_rows ON {schema}."{table}"')
        op.execute(f'ALTER TABLE {schema}."{table}" DISABLE ROW LEVEL SECURITY')
        op.execute(f'REVOKE ALL ON {schema}."{table}" FROM {ROLE}')
    op.execute(f"REVOKE USAGE ON SCHEMA {schema} FROM {ROLE}")
