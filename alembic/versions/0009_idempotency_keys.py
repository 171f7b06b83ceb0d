"""idempotency_key: the Idempotency-Key of mutation requests, per tenant, user and key

A row holds the fingerprint of the request the key was first used with, the attempt that
holds it, its state (running, committed, done) and the stored response. Tenant-scoped with
row-level security (app.data.rights): the tenant role reads and writes its tenant's keys;
the purge of expired keys runs as crm_system.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.data.rights import secure_tenant_table
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "idempotency_key"


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
    # The tenant's requests use it as crm_tenant; the hourly purge deletes expired keys of
    # every tenant as crm_system (a DELETE with a WHERE reads the rows it matches).
    secure_tenant_table(op.execute, TABLE, system="SELECT, DELETE", schema=_schema())


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotency_key_expires_at"), table_name=TABLE)
    op.drop_table(TABLE)  # its policy and grants go with it
