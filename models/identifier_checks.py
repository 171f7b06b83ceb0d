"""Which stored identifiers were last checked and found valid (the data quality report).

A table with identifiers (company; contact_email; contact_phone) has `identifiers_checked`:
the fingerprint (`md5` of the identifier columns) of the values the report last checked and
found valid, NULL when never checked or found failing. A row whose fingerprint differs from
its column is a candidate (written since, by any path, or failing): a partial index on
`(tenant_id, id)` with that condition finds the candidates of a page without reading the
tenant's other rows, and the exact checks run in Python (app.services.data_quality).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from models.base import READ_APART

COLUMN = "identifiers_checked"
_SEPARATOR = "chr(31)"


def _fingerprint(*values: str) -> str:
    joined = f" || {_SEPARATOR} || ".join(f"coalesce({v}, '')" for v in values)
    return f"md5({joined})"


def _address(column: str) -> tuple[str, str]:
    return f"({column} ->> 'zip')", f"({column} ->> 'country_code')"


# The identifier columns of each table, as one fingerprint expression (immutable SQL).
FINGERPRINTS = {
    "company": _fingerprint(
        "vat_id",
        "tax_id",
        "trade_register_number",
        "register_court",
        *_address("billing_address"),
        *_address("delivery_address"),
    ),
    "contact_email": _fingerprint("email"),
    "contact_phone": _fingerprint("phone"),
}


def unchecked(table: str) -> str:
    """The condition of a candidate row (the partial index's predicate, word for word)."""
    return f"{COLUMN} IS DISTINCT FROM {FINGERPRINTS[table]}"


def checked_column() -> Any:
    """The fingerprint last found valid (never read with the record: models.base.READ_APART)."""
    column: sa.Column[str] = sa.Column(COLUMN, sa.Text(), nullable=True, info={READ_APART: True})
    return Field(default=None, sa_column=column)


def unchecked_index(table: str) -> sa.Index:
    return sa.Index(
        f"ix_{table}_identifiers_unchecked",
        "tenant_id",
        "id",
        postgresql_where=sa.text(unchecked(table)),
    )
