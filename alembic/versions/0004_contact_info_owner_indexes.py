"""contact_email, contact_phone: plain indexes on their owner (contact or company)

The partial unique indexes on (tenant_id, owner, value) are wider than the lookup needs, and
PostgreSQL answered a page's e-mails and phones by owner id with a sequential scan.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 22:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = [
    (table, owner)
    for table in ('contact_email', 'contact_phone')
    for owner in ('contact_id', 'company_id')
]


# CONCURRENTLY: the tables stay writable while an index builds (it needs its own transaction).


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for table, owner in _INDEXES:
            op.create_index(
                op.f(f'ix_{table}_tenant_id_{owner}'), table, ['tenant_id', owner],
                postgresql_concurrently=True,
            )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for table, owner in _INDEXES:
            op.drop_index(
                op.f(f'ix_{table}_tenant_id_{owner}'), table_name=table,
                postgresql_concurrently=True,
            )
