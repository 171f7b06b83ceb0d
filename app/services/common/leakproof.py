"""Filter conditions in their leakproof forms (models/sort_keys.py, issue 25).

A list's filter runs under row-level security, where only a condition of leakproof operators
can be an index condition. These compare the generated key columns instead of the enum or
money column itself, with exactly the meaning of the original condition:

- `ranked(status_rank, statuses)` is `status IN (statuses)`: each member's declared position;
- `cents_between(value_cents, low, high)` is `value >= low AND value <= high`: `value` holds
  whole cents, so `value >= 10.005` is `cents >= 1001` (the bound rounded up) and
  `value <= 10.005` is `cents <= 1000` (rounded down).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from enum import Enum
from typing import Any

from models.sort_keys import rank_of


def ranked(rank_column: Any, members: Iterable[Enum]) -> Any:
    """`<enum column> IN (members)` as `<column>_rank IN (their positions)`."""
    return rank_column.in_(sorted({rank_of(type(member), member) for member in members}))


def cents_between(cents_column: Any, low: Decimal | None, high: Decimal | None) -> list[Any]:
    """`value >= low`, `value <= high` (those set) on a money column's `<column>_cents`."""
    conditions: list[Any] = []
    if low is not None:
        conditions.append(cents_column >= _cents(low, ROUND_CEILING))
    if high is not None:
        conditions.append(cents_column <= _cents(high, ROUND_FLOOR))
    return conditions


def _cents(amount: Decimal, rounding: str) -> int:
    """`amount` in whole cents, rounded by `rounding` from its exact value (the context's 28
    digits would round `10.00000000000000000000000000001` to 10.00 before the ceiling)."""
    with localcontext() as exact:
        exact.prec = max(28, len(amount.as_tuple().digits) + 4)
        return int((amount * 100).to_integral_value(rounding=rounding))
