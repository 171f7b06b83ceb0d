"""Keyset pagination: opaque cursors over (sort value, id), stable under inserts and deletes."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Row

from app.data.records import Entity, RowT
from app.data.tenancy import TenantScope
from app.errors import BadUserInput

ItemT = TypeVar("ItemT")  # what a page holds: rows, or the compiled path's partial rows
MONEY_LIMIT = Decimal("1e12")  # NUMERIC(14, 2)
SORT_LABEL = "sort_key"
# The page statement's own parameters (named, so a page's SQL text does not depend on them)
AFTER_VALUE, AFTER_ID, PAGE_LIMIT = "crm_after_value", "crm_after_id", "crm_page_limit"


def _text(value: Any) -> str:
    if not isinstance(value, str) or "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise ValueError("not text")
    return value


def _timestamp(value: Any) -> datetime:
    parsed = datetime.fromisoformat(_text(value))
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
    (`parse` checks the type of a value decoded from a client's cursor)."""

    name: str
    expression: Any  # a column or SQL expression
    parse: Callable[[Any], Any] = _text


def timestamp_key(name: str, column: Any) -> SortKey:
    return SortKey(name, column, parse=_timestamp)


@dataclass(frozen=True)
class PageRequest:
    first: int
    after: str | None = None
    descending: bool = False


@dataclass(frozen=True)
class Page(Generic[ItemT]):
    rows: Sequence[ItemT]
    cursors: Sequence[str]
    has_next_page: bool


def clamp_first(first: int | None, *, default: int, maximum: int) -> int:
    if first is None:
        return default
    if first < 0 or first > maximum:
        raise BadUserInput.single("first", f"must be between 0 and {maximum}")
    return first


def encode_cursor(key: SortKey, value: Any, row_id: uuid.UUID) -> str:
    raw = orjson.dumps([key.name, value, str(row_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(key: SortKey, cursor: str) -> tuple[Any, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, value, row_id = orjson.loads(base64.urlsafe_b64decode(padded))
        if name != key.name:
            raise ValueError("cursor of another order")
        return key.parse(value), uuid.UUID(_text(row_id))
    except (ValueError, TypeError, ArithmeticError, binascii.Error, orjson.JSONDecodeError):
        raise BadUserInput.single("after", "is not a cursor of this list and order") from None


@dataclass(frozen=True)
class PageQuery(Generic[RowT]):
    """One page of a list, built but not run: the rows of `entity` matching `conditions`
    after the request's cursor, in (sort value, id) order, one more than asked for to know
    whether more exist. `read_page` runs it in a uow with every column; the compiled
    execution path runs it with the columns a query reads."""

    entity: Entity[RowT]
    conditions: Sequence[Any]
    key: SortKey
    request: PageRequest

    def bounds(self) -> dict[str, Any]:
        """The values of the statement's own parameters: the limit (one row more than asked
        for) and, after a cursor, its position, decoded and checked."""
        values: dict[str, Any] = {PAGE_LIMIT: self.request.first + 1}
        if self.request.after is not None:
            values[AFTER_VALUE], values[AFTER_ID] = decode_cursor(self.key, self.request.after)
        return values

    def statement(
        self, columns: Sequence[Any], bounds: dict[str, Any] | None = None
    ) -> sa.Select[Any]:
        """The page's SELECT of `columns`, with `bounds` (from `bounds()`) as its parameters."""
        key, request, id_column = self.key, self.request, self.entity.id
        values = self.bounds() if bounds is None else bounds
        ordered = sa.select(*columns).where(*self.conditions)
        ordered = ordered.add_columns(key.expression.label(SORT_LABEL))
        if AFTER_ID in values:
            position = sa.tuple_(key.expression, id_column)
            bound = sa.tuple_(
                sa.bindparam(AFTER_VALUE, values[AFTER_VALUE], type_=key.expression.type),
                sa.bindparam(AFTER_ID, values[AFTER_ID], type_=id_column.type),
            )
            ordered = ordered.where(position < bound if request.descending else position > bound)
        if request.descending:
            ordered = ordered.order_by(key.expression.desc(), id_column.desc())
        else:
            ordered = ordered.order_by(key.expression.asc(), id_column.asc())
        return ordered.limit(sa.bindparam(PAGE_LIMIT, values[PAGE_LIMIT]))

    def page(self, rows: Sequence[ItemT], sort_value_and_id: Callable[[ItemT], Any]) -> Page[ItemT]:
        """The page of fetched `rows`, with a cursor for each visible row."""
        visible = rows[: self.request.first]
        cursors = []
        for row in visible:
            value, row_id = sort_value_and_id(row)
            cursors.append(encode_cursor(self.key, _jsonable(value), row_id))
        return Page(rows=visible, cursors=cursors, has_next_page=len(rows) > self.request.first)


async def read_page(scope: TenantScope, query: PageQuery[RowT]) -> Page[RowT]:
    async with scope.reading() as reads:
        rows = (await reads.execute_rows(query.statement(query.entity.columns))).all()
    return cast(Page[RowT], query.page(rows, _sort_value_and_id))


def _sort_value_and_id(row: Row[Any]) -> tuple[Any, Any]:
    return row.sort_key, row.id


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def range_conditions(ranges: Sequence[tuple[Any, Any, Any]]) -> list[Any]:
    """`column >= low` and `column <= high` for each (column, low, high) bound that is set."""
    conditions: list[Any] = []
    for column, low, high in ranges:
        if low is not None:
            conditions.append(column >= low)
        if high is not None:
            conditions.append(column <= high)
    return conditions


def like_pattern(text: str) -> str:
    """A substring ILIKE pattern with the user's % and _ taken literally."""
    if "\x00" in text:
        raise BadUserInput.single("search", "must not contain NUL characters")
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
