"""The arithmetic of the query cost (resolvers/query_cost.py): a document's cost as a formula
over its page-size variables, built once per document and evaluated per request, saturating at
COUNT_LIMIT so that no request makes big integers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

COUNT_LIMIT = 2**53 - 1


def at_most_countable(value: int) -> int:
    return value if value < COUNT_LIMIT else COUNT_LIMIT


def int_literal(digits: str) -> int:
    """An Int literal's page size: negative is 0, and a literal too long to count (it may have
    thousands of digits) is not converted at all."""
    if digits.startswith("-"):
        return 0
    return COUNT_LIMIT if len(digits) > len(str(COUNT_LIMIT)) else at_most_countable(int(digits))


@dataclass(frozen=True)
class PageSizes:
    """The page-size settings the resolvers apply, which the cost follows."""

    default: int  # a connection's `first: null`
    cap: int  # MAX_PAGE_SIZE: a list of unknown length, or a `first` that is no integer


@dataclass(frozen=True)
class VariableSize:
    """A page size given as `first: $name`: that variable's value in the request."""

    name: str
    absent: int  # the size when the request does not send it (its default, else the field's)
    null: int  # the size when it is sent as null (the field's default)
    cap: int  # a value that is not an integer (coercion refuses it; the cost stays meaningful)

    def of(self, variables: Mapping[str, Any] | None) -> int:
        if variables is None or self.name not in variables:
            return self.absent
        value = variables[self.name]
        if value is None:
            return self.null
        if isinstance(value, int) and not isinstance(value, bool):
            return at_most_countable(max(value, 0))
        if isinstance(value, float) and value.is_integer():  # not for inf and nan
            return COUNT_LIMIT if value >= COUNT_LIMIT else max(int(value), 0)
        return self.cap


UNSET = -1  # the size of a `last` or `first` argument the request leaves unset


@dataclass(frozen=True)
class EitherSize:
    """A page size given as `first` and `last` where one of them is a variable: the one the
    request sets, the field's default when it sets neither, and the larger when it sets both
    (which the resolvers refuse). An unset argument's size is -1 (`_Walk._argument`)."""

    first: int | VariableSize
    last: int | VariableSize
    fallback: int

    def of(self, variables: Mapping[str, Any] | None) -> int:
        sizes = [s if isinstance(s, int) else s.of(variables) for s in (self.first, self.last)]
        return max(sizes) if max(sizes) >= 0 else self.fallback


@dataclass(frozen=True)
class VariableLength:
    """A list as long as a list argument given as a variable (`nodes(ids: $ids)`): that
    variable's length in the request, at most `cap` (the resolver refuses more). A single
    value is a list of one (input coercion); not sent, its default's length (`absent`);
    null, the cap (coercion refuses it)."""

    name: str
    absent: int
    cap: int

    def of(self, variables: Mapping[str, Any] | None) -> int:
        if variables is None or self.name not in variables:
            return self.absent
        value = variables[self.name]
        if value is None:
            return self.cap
        return min(len(value), self.cap) if isinstance(value, list) else 1


Size = int | VariableSize | EitherSize | VariableLength


@dataclass(frozen=True, eq=False)
class Scaled:
    """size * (1 + inner): a field of object type resolved `size` times, with its selection."""

    size: Size
    inner: Expression


@dataclass(frozen=True, eq=False)
class Total:
    constant: int
    parts: tuple[Scaled, ...]


Expression = int | Scaled | Total


def times(size: int, inner: int) -> int:
    """size * (1 + inner), saturated (both are at most COUNT_LIMIT: no big integers)."""
    return at_most_countable(size * (1 + inner))


def scaled(size: Size, inner: Expression) -> Expression:
    if isinstance(size, int) and isinstance(inner, int):
        return times(size, inner)
    if size == 1:
        return total((1, inner))
    return Scaled(size, inner)


def total(expressions: Iterable[Expression]) -> Expression:
    constant = 0
    parts: list[Scaled] = []
    for expression in expressions:
        if isinstance(expression, int):
            constant = at_most_countable(constant + expression)
        elif isinstance(expression, Total):
            constant = at_most_countable(constant + expression.constant)
            parts.extend(expression.parts)
        else:
            parts.append(expression)
    if not parts:
        return constant
    return parts[0] if constant == 0 and len(parts) == 1 else Total(constant, tuple(parts))


def evaluate(expression: Expression, variables: Mapping[str, Any] | None) -> int:
    """The cost with these variables. Fragments spread in several places share their
    expression, so each shared part is evaluated once."""
    if isinstance(expression, int):
        return expression
    values: dict[int, int] = {}

    def value(node: Expression) -> int:
        if isinstance(node, int):
            return node
        known = values.get(id(node))
        if known is None:
            if isinstance(node, Scaled):
                size = node.size if isinstance(node.size, int) else node.size.of(variables)
                known = times(size, value(node.inner))
            else:
                known = node.constant
                for part in node.parts:
                    known = at_most_countable(known + value(part))
            values[id(node)] = known
        return known

    variables = variables if isinstance(variables, Mapping) else None
    return value(expression)
