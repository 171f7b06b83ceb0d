"""events: the outbox, per-tenant event counters, the relay position, due-soon reminders

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 13:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('crm_event',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('type', sa.String(length=80), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.Uuid(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('changes', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_crm_event_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'seq', name=op.f('pk_crm_event'))
    )
    op.create_index('ix_crm_event_tenant_id_entity_id_seq', 'crm_event', ['tenant_id', 'entity_id', 'seq'], unique=False)
    op.create_table('event_counter',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_event_counter_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_event_counter'))
    )
    op.create_table('event_relay',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('published_seq', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_event_relay_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_event_relay'))
    )
    op.add_column('activity', sa.Column('reminded_due_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('activity', 'reminded_due_at')
    op.drop_table('event_relay')
    op.drop_table('event_counter')
    op.drop_index('ix_crm_event_tenant_id_entity_id_seq', table_name='crm_event')
    op.drop_table('crm_event')
