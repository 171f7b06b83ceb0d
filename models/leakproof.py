"""Leakproof forms of keys that lists filter on (issue 25).

Under row-level security PostgreSQL uses a condition as an index condition only when every
operator and function in it is LEAKPROOF: `=`/`<`/`>` on text, uuid, timestamps, dates,
integers and booleans are; enum comparisons, `numeric` comparisons, array operators,
`lower()` and LIKE are not, and only a superuser can mark them. So each such key gets a stored
generated column of a leakproof type, with its own index, and the lists compare that column:

- `<column>_rank smallint`: an enum's position in its declared order (1, 2, ...), compared
  with the positions of the wanted members (`enum_rank`);
- `<column>_cents bigint`: a money column in cents (NUMERIC(14,2) times 100 is exact);
- `<column>_key text`: `lower(<column>)`, compared with the value lowered as before.

Each is kept for the database's own use (models.base.DERIVED): never read with a record, never
written (PostgreSQL refuses a value for a generated column), never in an event's changes.
Tags, a list per record, are a child table instead (models.record_tags).
"""

from __future__ import annotations

import enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from models.base import DERIVED


def enum_rank(member: enum.Enum) -> int:
    """A member's position in its enum's declared order (the PostgreSQL enum's order too)."""
    return list(type(member)).index(member) + 1


def rank_expression(column: str, members: type[enum.Enum]) -> str:
    # `ELSE NULL` is what PostgreSQL stores anyway (NULL has no rank): written out, the model's
    # text reads as the reflected one (alembic's comparison of generated columns).
    whens = " ".join(f"WHEN '{m.value}' THEN {enum_rank(m)}" for m in members)
    return f"CASE {column} {whens} ELSE NULL END"


def _derived(name: str, column_type: Any, expression: str) -> Any:
    column: sa.Column[Any] = sa.Column(
        name, column_type, sa.Computed(expression, persisted=True), info={DERIVED: True}
    )
    return Field(default=None, sa_column=column)


def rank_column(column: str, members: type[enum.Enum]) -> Any:
    """`<column>_rank`: the enum column's position in `members`' declared order."""
    return _derived(f"{column}_rank", sa.SmallInteger(), rank_expression(column, members))


def cents_expression(column: str) -> str:
    return f"(({column} * 100)::bigint)"


def cents_column(column: str) -> Any:
    """`<column>_cents`: a money column in whole cents."""
    return _derived(f"{column}_cents", sa.BigInteger(), cents_expression(column))


def lowered_column(column: str) -> Any:
    """`<column>_key`: the text lowercased, as the list compares it."""
    return _derived(f"{column}_key", sa.Text(), f"lower({column})")


def key_index(table: str, key: str) -> sa.Index:
    """`ix_<table>_tenant_id_<key>` on (tenant_id, key, id): a filter on the key seeks within
    the tenant, and a page in its order reads it in order."""
    return sa.Index(f"ix_{table}_tenant_id_{key}", "tenant_id", key, "id")
