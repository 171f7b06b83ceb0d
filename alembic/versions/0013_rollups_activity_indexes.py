"""activity: indexes for the roll-ups of companies and contacts

A record's last activity (the latest `completed_at`) and next due activity (the earliest open
`due_at`) are each the first entry of one range of these indexes; without them PostgreSQL
reads every activity of the record, or walks the tenant-wide open-due index
(`ix_activity_open_due_at`) filtering by record.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = [
    (f"ix_activity_{link}_{column}", link, column, where)
    for link in ("company_id", "contact_id")
    for column, where in (
        ("completed_at", "completed_at IS NOT NULL"),
        ("due_at", "completed_at IS NULL AND due_at IS NOT NULL"),
    )
]


def upgrade() -> None:
    for name, link, column, where in _INDEXES:
        op.create_index(
            name, "activity", ["tenant_id", link, column], postgresql_where=sa.text(where)
        )


def downgrade() -> None:
    for name, _, _, _ in _INDEXES:
        op.drop_index(name, table_name="activity")
