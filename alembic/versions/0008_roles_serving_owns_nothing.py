"""The serving role owns nothing: `crm_system` for the server's work across tenants

Until now the server's cross-tenant work (the event relay, provisioning tenants and members,
the crons' lists of tenants) ran as the tables' owner, outside row-level security, and any
path that forgot to switch to `crm_tenant` saw every tenant. From here on the server logs in
as a role that owns nothing and has no right on any table (DATABASE_URL; the owner runs the
migrations, MIGRATION_DATABASE_URL) and switches in every transaction: to `crm_tenant` for a
tenant's work, to `crm_system` (created here) for cross-tenant work. `crm_system` gets a policy
that sees every tenant's rows and exactly the privileges that work uses:

- the relay reads the outbox (`crm_event`, `event_counter`) and records what it published
  (`event_relay`);
- provisioning creates a tenant on its first token (`tenant`: the upsert's ON CONFLICT DO
  UPDATE needs UPDATE) and creates, binds or refreshes its members (`user`);
- the crons list tenants: due activities, ERP-tagged companies and contacts, Lexware keys;
- readiness reads the schema's revision (`alembic_version`).

The serving role's memberships (`GRANT crm_tenant, crm_system TO <serving role> WITH INHERIT
FALSE, SET TRUE`) are granted after every upgrade (app.migrations), as the serving role is a
setting, not part of the schema. The owner is made a member too (it serves, warned, where a
deployment gives both URLs the same user).

Creating the role needs CREATEROLE (the embedded default's owner is a superuser); without it a
DBA creates `crm_system NOLOGIN NOINHERIT` beforehand and grants it to the owner (README,
"Database roles"). Roles belong to the whole cluster: kept on downgrade.

Row-level security is not forced: the tables' owner is never the server's user in the set-up
this enables, and forcing would hide the rows from the owner's own data migrations (0006 and
0007 update rows) and make pg_dump as a non-superuser owner fail.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from app.data.rights import create_role_sql, join_role_sql, quoted, secure_for_system

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "crm_system"  # models.roles.SYSTEM_ROLE
# Every table with row-level security at this revision (0005), with crm_system's privileges
# there ("": none, the policy only).
SYSTEM_PRIVILEGES = {
    "tenant": "SELECT, INSERT, UPDATE",
    "user": "SELECT, INSERT, UPDATE",
    "crm_event": "SELECT",
    "event_counter": "SELECT",
    "event_relay": "SELECT, INSERT, UPDATE",
    "activity": "SELECT",
    "company": "SELECT",
    "contact": "SELECT",
    "lexware_account": "SELECT",
    "account_type": "",
    "company_owner": "",
    "company_relationship": "",
    "contact_email": "",
    "contact_owner": "",
    "contact_phone": "",
    "contract": "",
    "deal": "",
    "deal_owner": "",
    "deal_voucher": "",
    "industry": "",
    "lexware_voucher": "",
    "pipeline": "",
    "pipeline_stage": "",
    "relationship_type": "",
}


def _schema() -> str:
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one()
    return quoted(str(schema))


def upgrade() -> None:
    schema = _schema()
    op.execute(create_role_sql(ROLE))
    op.execute(join_role_sql(ROLE))
    op.execute(f"GRANT USAGE ON SCHEMA {schema} TO {ROLE}")
    for table, privileges in SYSTEM_PRIVILEGES.items():
        secure_for_system(op.execute, f"{schema}.{quoted(table)}", privileges)
    op.execute(f"GRANT SELECT ON {schema}.alembic_version TO {ROLE}")


def downgrade() -> None:
    schema = _schema()
    op.execute(f"REVOKE ALL ON {schema}.alembic_version FROM {ROLE}")
    for table in SYSTEM_PRIVILEGES:
        op.execute(f'DROP POLICY system_rows ON {schema}."{table}"')
        op.execute(f'REVOKE ALL ON {schema}."{table}" FROM {ROLE}')
    op.execute(f"REVOKE USAGE ON SCHEMA {schema} FROM {ROLE}")
