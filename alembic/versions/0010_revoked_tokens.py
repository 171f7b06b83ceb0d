"""revoked_token: revoked tokens, durable in PostgreSQL (Redis only notifies)

A token's revocation must hold while Redis is down, so it is a row here, keyed on the token's
(issuer, jti) as the auth service issued them (an empty issuer for tokens without `iss`).
`expires_at` is when the token would have expired anyway (with the leeway): the row can go
then. Each server process reads the rows revoked since its last look (`revoked_at`, indexed)
every few seconds into its own view (app/revocations.py), so no request reads this table.

Not tenant-scoped by row-level security: a jti is the auth service's, and the view reads
every tenant's revocations at once. `tenant_slug` is the token's tenant claim, for operators
(no `tenant_id` column: that would put the table under the tenants' row policy, and no
foreign key: a row only lives as long as its token would have).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.data.rights import grant_system_table

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revoked_token",
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("jti", sa.Text(), nullable=False),
        sa.Column("tenant_slug", sa.String(length=63), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "revoked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("issuer", "jti"),
    )
    op.create_index("ix_revoked_token_revoked_at", "revoked_token", ["revoked_at"])
    op.create_index("ix_revoked_token_expires_at", "revoked_token", ["expires_at"])
    # Each process's view reads it, a logout inserts, the refresh purges: all as crm_system.
    grant_system_table(op.execute, "revoked_token", "SELECT, INSERT, DELETE")


def downgrade() -> None:
    op.drop_table("revoked_token")
