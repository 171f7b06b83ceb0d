"""Sort keys: what a list can be ordered by, as an SQL expression and the type a cursor
carries (`SortKey`), and the keys of each kind. A key a list seeks by is a column of a
leakproof type (models/sort_keys.py: the stored `_key`/`_cents`/`_rank` columns): under
row-level security only leakproof comparisons become index conditions. How a page reads by a
key: app/data/pagination.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute

from models.sort_keys import rank_of

MONEY_LIMIT = Decimal("1e12")  # NUMERIC(14, 2)


def text_value(value: Any) -> str:
    """A text from a cursor: a string PostgreSQL can hold."""
    if not isinstance(value, str) or "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise ValueError("not text")
    return value


def _timestamp(value: Any) -> datetime:
    parsed = datetime.fromisoformat(text_value(value))
    if parsed.tzinfo is None:
        raise ValueError("timestamp without offset")
    parsed.astimezone(UTC)  # an instant outside the representable range fails here
    return parsed


def bounded_decimal(value: Any) -> Decimal:
    """A decimal from a cursor or filter: finite and within what a money column holds."""
    number = Decimal(str(value))
    if not number.is_finite() or abs(number) >= MONEY_LIMIT:
        raise ValueError("number out of range")
    return number


@dataclass(frozen=True)
class SortKey:
    """One orderable field: its public name, the SQL expression and how cursors carry it
    (`parse` checks the type of a value decoded from a client's cursor). A `nullable` key
    sorts its NULLs last in both directions, and its cursors carry the null: the keyset is
    (value IS NULL, value, id)."""

    name: str
    expression: Any  # a column or SQL expression
    parse: Callable[[Any], Any] = text_value
    nullable: bool = False

    @property
    def of_row(self) -> bool:
        """Whether the key is a column of the listed row (an index can hold it), not a value
        computed from other rows (`related()`, the roll-ups)."""
        return isinstance(self.expression, QueryableAttribute)

    def order_by(self, id_column: Any, descending: bool, *, reverse: bool = False) -> list[Any]:
        """ORDER BY of a list in this key's order (`reverse`: read from its end)."""
        down = descending != reverse
        value = self.expression.desc() if down else self.expression.asc()
        if self.nullable:  # NULLs last in the list's order: first when read from its end
            value = value.nulls_first() if reverse else value.nulls_last()
        return [value, id_column.desc() if down else id_column.asc()]


def timestamp_key(name: str, column: Any, *, nullable: bool = False) -> SortKey:
    return SortKey(name, column, parse=_timestamp, nullable=nullable)


def _date(value: Any) -> date:
    return date.fromisoformat(text_value(value))


def _integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= 2**31:
        raise ValueError("not an integer")
    return value


def date_key(name: str, column: Any, *, nullable: bool = False) -> SortKey:
    return SortKey(name, column, parse=_date, nullable=nullable)


def integer_key(name: str, expression: Any, *, nullable: bool = False) -> SortKey:
    return SortKey(name, expression, parse=_integer, nullable=nullable)


def _whole_cents(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= MONEY_LIMIT * 100:
        raise ValueError("not an amount in cents")
    return value


def money_key(name: str, cents: Any, *, nullable: bool = False) -> SortKey:
    """Money, compared by its stored `<column>_cents` (models.sort_keys: `numeric` comparisons
    are not leakproof). A cursor carries the cents; one of before (the amount as a decimal
    string) still reads as the same position."""

    def parse(value: Any) -> int:
        if isinstance(value, str):  # an amount: a cursor made before the cents
            amount = bounded_decimal(value) * 100
            if amount != amount.to_integral_value():
                raise ValueError("more than two decimals")
            return int(amount)
        return _whole_cents(value)

    return SortKey(name, cents, parse=parse, nullable=nullable)


def enum_key(name: str, rank: Any, members: type[Enum], *, nullable: bool = False) -> SortKey:
    """A PostgreSQL enum column, sorted in the order its values are declared, compared by its
    stored `<column>_rank` (models.sort_keys: enum comparisons are not leakproof). A cursor
    carries the rank; one of before (the value's name) still reads as the same position."""
    ranks = {member.value: rank_of(members, member) for member in members}  # as stored

    def parse(value: Any) -> int:
        if isinstance(value, str):  # the value: a cursor made before the ranks
            if value not in ranks:
                raise ValueError("not a value of the enum")
            return ranks[value]
        if _integer(value) not in ranks.values():
            raise ValueError("not a rank of the enum")
        return int(value)

    return SortKey(name, rank, parse=parse, nullable=nullable)


def text_key(name: str, key: Any, *, nullable: bool = False) -> SortKey:
    """Text sorted ignoring case, as the lists' NAME orders are: compared by its stored
    `<column>_key`, the text lowercased (models.sort_keys: `lower()` is not leakproof)."""
    return SortKey(name, key, nullable=nullable)


def lowered_key(name: str, expression: Any, *, nullable: bool = False) -> SortKey:
    """Text that is not a column of the listed row (another row's name, `related()`), sorted
    ignoring case: `lower()` of it, no index condition either way."""
    return SortKey(name, sa.func.lower(expression), nullable=nullable)


def related(value: Any, target_id: Any, key: Any) -> Any:
    """`value` of the row whose id `target_id` the listed row holds in `key` (NULL without
    one): a scalar subquery on uuid equality, so a sort by it stays one statement per page
    (the tenant filter reaches into it like into any subquery)."""
    return sa.select(value).where(target_id == key).scalar_subquery()
