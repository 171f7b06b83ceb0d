"""company, contact_email, contact_phone: `identifiers_checked` and its partial index

The data quality report (`dataQualityIssues`) checks stored identifiers in Python (stdnum,
phonenumbers, email-validator): a row's `identifiers_checked` holds the fingerprint of the
values it last found valid (models.identifier_checks). Rows written before, or since, or
failing, have none that matches: the partial index on `(tenant_id, id)` finds exactly these,
so a page of the report reads its candidates, not the tenant's table. Existing rows start
unchecked (NULL): the report's first pages check them, a bounded number per page.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.identifier_checks import COLUMN, unchecked

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("company", "contact_email", "contact_phone")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column(COLUMN, sa.Text(), nullable=True))
        op.create_index(
            f"ix_{table}_identifiers_unchecked",
            table,
            ["tenant_id", "id"],
            postgresql_where=sa.text(unchecked(table)),
        )
    op.execute(f"ANALYZE {', '.join(_TABLES)}")  # the new column's statistics (see 0015)


def downgrade() -> None:
    for table in _TABLES:
        op.drop_index(f"ix_{table}_identifiers_unchecked", table_name=table)
        op.drop_column(table, COLUMN)
