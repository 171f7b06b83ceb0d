"""Keyset pagination: opaque cursors over (sort value, id), stable under inserts and deletes."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Row

from app.data.records import Entity, RowT
from app.data.sort_keys import SortKey, text_value
from app.data.tenancy import TenantScope
from app.errors import BadUserInput

ItemT = TypeVar("ItemT")  # what a page holds: rows, or the compiled path's partial rows
SORT_LABEL = "sort_key"
# The page statement's own parameters (named, so a page's SQL text does not depend on them)
CURSOR_VALUE, CURSOR_ID, PAGE_LIMIT = "crm_cursor_value", "crm_cursor_id", "crm_page_limit"
MERGED_ID = "crm_merged_id"  # the row's id in a page read in parts (PageQuery._merged)


@dataclass(frozen=True)
class PageRequest:
    """`first` rows from the list's start (after `after`), or with `backward` the last
    `first` rows (before `before`): what `first`/`after` and `last`/`before` ask for."""

    first: int
    after: str | None = None
    descending: bool = False
    before: str | None = None
    backward: bool = False

    @property
    def cursor(self) -> tuple[str, str] | None:
        """The page's one cursor, with the argument that sent it."""
        if self.after is not None:
            return "after", self.after
        if self.before is not None:
            return "before", self.before
        return None


@dataclass(frozen=True)
class Page(Generic[ItemT]):
    rows: Sequence[ItemT]
    cursors: Sequence[str]
    has_next_page: bool
    has_previous_page: bool = False


def clamp_first(first: int | None, *, default: int, maximum: int, argument: str = "first") -> int:
    if first is None:
        return default
    if first < 0 or first > maximum:
        raise BadUserInput.single(argument, f"must be between 0 and {maximum}")
    return first


def encode_cursor(order: str, value: Any, row_id: uuid.UUID) -> str:
    raw = orjson.dumps([order, value, str(row_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(
    order: str, key: SortKey, cursor: str, argument: str = "after"
) -> tuple[Any, uuid.UUID]:
    """The (sort value, id) of a cursor of the list and order named `order`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, value, row_id = orjson.loads(base64.urlsafe_b64decode(padded))
        if name != order:
            raise ValueError("cursor of another list or order")
        parsed = None if value is None and key.nullable else key.parse(value)
        return parsed, uuid.UUID(text_value(row_id))
    except (ValueError, TypeError, ArithmeticError, binascii.Error, orjson.JSONDecodeError):
        raise BadUserInput.single(argument, "is not a cursor of this list and order") from None


@dataclass(frozen=True)
class PageQuery(Generic[RowT]):
    """One page of a list, built but not run: the rows of `entity` matching `conditions`
    beyond the request's cursor, in (sort value, id) order, one more than asked for to know
    whether more exist; a backward page (`last`) reads from the list's end and turns the rows
    round. `read_page` runs it in a uow with every column; the compiled execution path runs
    it with the columns a query reads."""

    entity: Entity[RowT]
    conditions: Sequence[Any]
    key: SortKey
    request: PageRequest

    @property
    def order(self) -> str:
        """What a cursor names: the list (entity) and its order, so that another list's
        cursor is refused even where the two orders share a name and type."""
        return f"{self.entity.label}.{self.key.name}"

    def bounds(self) -> dict[str, Any]:
        """The values of the statement's own parameters: the limit (one row more than asked
        for) and, with a cursor, its position, decoded and checked (CURSOR_ID always, the
        value unless the cursor carries a null)."""
        values: dict[str, Any] = {PAGE_LIMIT: self.request.first + 1}
        cursor = self.request.cursor
        if cursor is not None:
            value, values[CURSOR_ID] = decode_cursor(self.order, self.key, cursor[1], cursor[0])
            if value is not None:
                values[CURSOR_VALUE] = value
        return values

    def shape(self, bounds: dict[str, Any]) -> tuple[Any, ...]:
        """What the statement's text depends on besides its conditions and columns."""
        cursor = self.request.cursor
        side = None if cursor is None else (cursor[0], CURSOR_VALUE in bounds)
        return (self.entity, self.key, self.request.descending, self.request.backward, side)

    def statement(
        self, columns: Sequence[Any], bounds: dict[str, Any] | None = None
    ) -> sa.Select[Any]:
        """The page's SELECT of `columns`, with `bounds` (from `bounds()`) as its parameters.
        A nullable key that is a column of the row is read in two parts, its values and its
        NULLs, each an ordered and limited read whose keyset its index can seek (`OR key IS
        NULL` could be no index condition), merged in the list's order (`_merged`)."""
        values = self.bounds() if bounds is None else bounds
        limit: Any = sa.bindparam(PAGE_LIMIT, values[PAGE_LIMIT])
        parts = self._parts(values)
        if len(parts) == 1:
            where, order = parts[0]
            return self._read(columns, where, order).limit(limit)
        return self._merged([self._read(columns, *part, merged=True) for part in parts], limit)

    def _read(
        self, columns: Sequence[Any], where: list[Any], order: list[Any], *, merged: bool = False
    ) -> sa.Select[Any]:
        read = sa.select(*columns).where(*self.conditions, *where)
        read = read.add_columns(self.key.expression.label(SORT_LABEL))
        if merged:  # the merge orders by the id, and a nested page's parent is the outer one's
            read = read.add_columns(self.entity.id.label(MERGED_ID))
            read = read.correlate_except(self.entity.model)
        return read.order_by(*order)

    def _merged(self, reads: list[sa.Select[Any]], limit: Any) -> sa.Select[Any]:
        """The parts' rows in the list's order, the page's first `limit` of them."""
        parts = sa.union_all(*[read.limit(limit) for read in reads]).subquery("keyset")
        in_parts = SortKey(self.key.name, parts.c[SORT_LABEL], nullable=True)
        request = self.request
        order = in_parts.order_by(parts.c[MERGED_ID], request.descending, reverse=request.backward)
        merged = sa.select(*[column for column in parts.c if column.key != MERGED_ID])
        return merged.order_by(*order).limit(limit)

    def _parts(self, values: dict[str, Any]) -> list[tuple[list[Any], list[Any]]]:
        """The page's reads, each its conditions and order, in the order they are read."""
        key, request, id_column = self.key, self.request, self.entity.id
        if not (key.nullable and key.of_row):
            cursor = request.cursor
            beyond = [] if cursor is None else [self._beyond(values, after=cursor[0] == "after")]
            return [(beyond, key.order_by(id_column, request.descending, reverse=request.backward))]
        down = request.descending != request.backward
        # Both parts in (key, id) order without NULLS FIRST/LAST: the order the key's index
        # is read in, either way (the NULLs' part too: only that index gives it unsorted).
        by_value = [
            key.expression.desc() if down else key.expression.asc(),
            id_column.desc() if down else id_column.asc(),
        ]
        present, absent = self._present_and_absent(values)
        parts = [(present, by_value), (absent, by_value)]
        if request.backward:  # read from the list's end: its NULLs come first
            parts.reverse()
        return [(where, order) for where, order in parts if where is not None]

    def _present_and_absent(self, values: dict[str, Any]) -> tuple[Any, Any]:
        """The conditions of the rows beyond the cursor that hold a value and of those that
        hold NULL (None: there are none), each a keyset the key's index can seek."""
        key, id_column = self.key.expression, self.entity.id
        cursor = self.request.cursor
        if cursor is None:
            return [key.is_not(None)], [key.is_(None)]
        after = cursor[0] == "after"
        greater = after != self.request.descending
        if CURSOR_VALUE in values:  # after a value, every NULL; before it, none
            return [self._compared(values, greater)], ([key.is_(None)] if after else None)
        cursor_id = self._cursor_id(values)
        same_nulls = [key.is_(None), id_column > cursor_id if greater else id_column < cursor_id]
        return (None if after else [key.is_not(None)]), same_nulls

    def _cursor_id(self, values: dict[str, Any]) -> Any:
        return sa.bindparam(CURSOR_ID, values[CURSOR_ID], type_=self.entity.id.type)

    def _compared(self, values: dict[str, Any], greater: bool) -> Any:
        """(value, id) beyond the cursor's: greater, or smaller."""
        key, id_column = self.key.expression, self.entity.id
        position = sa.tuple_(key, id_column)
        value = sa.bindparam(CURSOR_VALUE, values[CURSOR_VALUE], type_=key.type)
        bound = sa.tuple_(value, self._cursor_id(values))
        return position > bound if greater else position < bound

    def _beyond(self, values: dict[str, Any], *, after: bool) -> Any:
        """Rows after (or before) the cursor in the list's order, in one condition (a key no
        index holds). A nullable key's NULLs come last: after a value lie the greater values
        and all NULLs, after a NULL only the NULLs of greater id (descending: smaller values,
        smaller ids)."""
        key, id_column = self.key, self.entity.id
        greater = after != self.request.descending  # the comparison of (value, id) wanted
        if CURSOR_VALUE not in values:  # the cursor's value is NULL
            cursor_id = self._cursor_id(values)
            is_null = key.expression.is_(None)
            same_nulls = sa.and_(
                is_null, id_column > cursor_id if greater else id_column < cursor_id
            )
            return same_nulls if after else sa.or_(key.expression.is_not(None), same_nulls)
        compared = self._compared(values, greater)
        if key.nullable and after:  # a row comparison with a NULL is NULL: name them
            return sa.or_(compared, key.expression.is_(None))
        return compared

    def page(self, rows: Sequence[ItemT], sort_value_and_id: Callable[[ItemT], Any]) -> Page[ItemT]:
        """The page of fetched `rows`, with a cursor for each visible row, in the list's
        order. More rows than asked for: more lie beyond in the direction of travel; a
        cursor: rows lie on its other side (the cursor's own row, at least)."""
        request = self.request
        visible = list(rows[: request.first])
        more = len(rows) > request.first
        if request.backward:
            visible.reverse()
        cursors, order = [], self.order
        for row in visible:
            value, row_id = sort_value_and_id(row)
            cursors.append(encode_cursor(order, _jsonable(value), row_id))
        if request.backward:
            has_previous, has_next = more, request.before is not None
        else:
            has_previous, has_next = request.after is not None, more
        return Page(visible, cursors, has_next_page=has_next, has_previous_page=has_previous)


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


def like_literal(text: str) -> str:
    """Text for a LIKE pattern with the user's %, _ and \\ taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
