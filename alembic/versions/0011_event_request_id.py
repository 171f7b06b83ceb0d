"""crm_event.request_id: the request (or job, or cron run) that caused an event

Written by the outbox from the request being served, carried in the Redis message as
`requestId`, so that the job an event causes (an ERP push) logs with the same request id.
NULL for events written before this revision and for those no request caused.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("crm_event", sa.Column("request_id", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("crm_event", "request_id")
