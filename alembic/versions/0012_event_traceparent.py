"""crm_event: the W3C trace context of the request that caused the event

Written only while tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT set), else NULL. The relay
publishes it with the event, and a job the event queues (the ERP push) runs in that trace.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 12:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("crm_event", sa.Column("traceparent", sa.String(length=55), nullable=True))


def downgrade() -> None:
    op.drop_column("crm_event", "traceparent")
