"""company, contact: both sides' Lexware fields as last synced, the base of a push's merge

`lexware_synced_values` holds `{"crm": {...}, "lexware": {...}}`: the mapped fields as the CRM
held them and as Lexware held them at the last link, import, push or sync. A push applies
only the fields the CRM changed since then (against the CRM's) and keeps what only Lexware
changed (against Lexware's); a field both changed is a conflict. NULL (links made before
this revision): the next push lets the CRM win on every field it holds, as pushes did before.

The voucher cache held contact names and voucher numbers HTML-escaped, as Lexware sends them:
the voucher cursor is cleared, so every tenant's next voucher sync reads all its vouchers
again and stores them unescaped.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("company", "contact")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column(
                "lexware_synced_values", postgresql.JSONB(astext_type=sa.Text()), nullable=True
            ),
        )
    op.execute("UPDATE lexware_account SET vouchers_synced_at = NULL")


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "lexware_synced_values")
