"""idempotency_key: the Idempotency-Key of mutation requests, per tenant, user and key

A row holds the fingerprint of the request the key was first used with, the attempt that
holds it, its state (running, committed, done) and the stored response. Tenant-scoped with
row-level security as in 0005: the tenant role reads and writes its tenant's keys; the purge
of expired keys runs as the owner.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "idempotency_key"
ROLE = "crm_tenant"  # app.data.tenancy.TENANT_ROLE, as in 0005
CURRENT_TENANT = "(SELECT current_setting('app.tenant_id')::uuid)"
PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


def _schema() -> str:
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one()
    return '"' + str(schema).replace('"', '""') + '"'


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", postgresql.BYTEA(), nullable=False),
        sa.Column("operation", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempt", sa.Uuid(), nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("response_status", sa.SmallInteger(), nullable=True),
        sa.Column("response_headers", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("response_body", postgresql.BYTEA(), nullable=True),
        sa.CheckConstraint(
            "state IN ('running', 'committed', 'done')", name=op.f("ck_idempotency_key_state")
        ),
        sa.CheckConstraint(
            "(state = 'done') = (response_status IS NOT NULL)",
            name=op.f("ck_idempotency_key_response"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_idempotency_key_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "tenant_id"],
            ["user.id", "user.tenant_id"],
            name=op.f("fk_idempotency_key_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", "key", name=op.f("pk_idempotency_key")),
    )
    op.create_index(op.f("ix_idempotency_key_expires_at"), TABLE, ["expires_at"])
    schema = _schema()
    op.execute(f'GRANT {PRIVILEGES} ON {schema}."{TABLE}" TO {ROLE}')
    op.execute(f'ALTER TABLE {schema}."{TABLE}" ENABLE ROW LEVEL SECURITY')
    op.execute(
        f'CREATE POLICY tenant_rows ON {schema}."{TABLE}" TO {ROLE} '
        f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotency_key_expires_at"), table_name=TABLE)
    op.drop_table(TABLE)  # its policy and grants go with it
