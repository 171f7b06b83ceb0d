"""lexware_account: a tenant's own (encrypted) Lexware API key and voucher sync position

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 14:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('lexware_account',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('encrypted_api_key', sa.Text(), nullable=True),
    sa.Column('key_hint', sa.String(length=8), nullable=True),
    sa.Column('key_set_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('key_set_by_id', sa.Uuid(), nullable=True),
    sa.Column('vouchers_synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_lexware_account_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_lexware_account'))
    )


def downgrade() -> None:
    op.drop_table('lexware_account')
