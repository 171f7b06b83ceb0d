"""Sort keys stored beside a record, so that a list's keyset can be an index condition.

Every list statement runs as `crm_tenant` under row-level security, and PostgreSQL uses a
condition as an index condition there only if each function and operator in it is LEAKPROOF
(alembic 0005; docs/ARCHITECTURE.md, section 14: keys a list seeks by). `lower()`, `numeric`
and enum comparisons are not, so a deep page by name, value or status read and discarded
every earlier row of the tenant. Each such sort compares a generated column of a leakproof
type instead, with its own index `(tenant_id, <key>, id)` (alembic 0019):

- `<column>_key text`: `lower(<column>)`, the case-insensitive text sorts;
- `<column>_cents bigint`: `(<column> * 100)::bigint`, money (NUMERIC(14, 2) fits exactly);
- `<column>_rank smallint`: 1, 2, ... in the enum's declared order (the order PostgreSQL
  sorts the enum by).

PostgreSQL computes and stores them (`GENERATED ALWAYS ... STORED`): nothing writes them, and
as `DERIVED` columns they are never read back as a record's value (models.base.in_record_row),
so no event, export, read model or GraphQL type carries them.
"""

from __future__ import annotations

import enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from models.base import DERIVED, TENANT_COLUMN


def _derived(name: str, column_type: Any, expression: str) -> Any:
    column: sa.Column[Any] = sa.Column(
        name, column_type, sa.Computed(expression, persisted=True), info={DERIVED: True}
    )
    return Field(default=None, sa_column=column)


def text_key_column(name: str, text: str) -> Any:
    """`name`: the text `text` (an SQL expression of the row) lowercased, as the NAME-like
    orders compare it."""
    return _derived(name, sa.Text(), f"lower({text})")


def cents_column(name: str, money: str) -> Any:
    """`name`: the money column `money` in cents."""
    return _derived(name, sa.BigInteger(), f"(({money} * 100))::bigint")


def rank_sql(column: str, members: type[enum.Enum]) -> str:
    """The rank of an enum column's value: 1 for its first declared value, NULL for NULL."""
    cases = " ".join(f"WHEN '{m.value}' THEN {n}" for n, m in enumerate(members, 1))
    return f"CASE {column} {cases} ELSE NULL END"  # as PostgreSQL shows it (alembic compares)


def rank_column(name: str, column: str, members: type[enum.Enum]) -> Any:
    """`name`: the enum column `column`'s rank (`rank_sql`)."""
    return _derived(name, sa.SmallInteger(), rank_sql(column, members))


def rank_of(members: type[enum.Enum], value: enum.Enum) -> int:
    """What `rank_sql` stores for `value`."""
    return list(members).index(value) + 1


def key_index(table: str, key: str) -> sa.Index:
    """The index a list seeks its keyset `(key, id)` in, within the tenant."""
    return sa.Index(f"ix_{table}_tenant_id_{key}", TENANT_COLUMN, key, "id")
