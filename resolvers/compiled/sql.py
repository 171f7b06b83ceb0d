"""SQL text for the plan: statements compiled once per plan (relation levels, lookups) and
statements built per request (a list root's filter, order and cursor) whose text is cached by
SQLAlchemy's own cache key, so a request pays for building the statement, not compiling it;
a page without conditions is not even built again: its text depends on its shape alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import LRUCache

from app.data.pagination import PageQuery
from app.data.tenant_filter import READ_FILTERS, TENANT_PARAMETER
from app.internals import compile_cached, positional_values

DIALECT = asyncpg_dialect()


class NotCompilable(Exception):
    """This operation (or this run of it) needs the normal executor."""


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: tuple[str, ...]  # bind parameter names in positional order
    # The values of the statement's own literals (an order's ' ' between two names, say),
    # by bind parameter name; the named parameters are filled in per run.
    constants: Mapping[str, Any] = field(default_factory=dict)


def compile_once(statement: sa.Select[Any]) -> Statement:
    """A statement whose values are named bind parameters filled in per run, or literals."""
    compiled = statement.compile(dialect=DIALECT)
    return Statement(compiled.string, tuple(compiled.positiontup or ()), compiled.params)


class RequestStatements:
    """Statements with their values inline, rendered as the engine renders them: one
    compilation per statement shape (SQLAlchemy's cache key), the values bound per request and
    converted by the column types' bind processors, IN lists expanded. This is what
    `Connection.execute` does internally (with SQLAlchemy 2.1's private API, in
    app/internals.py, hence the narrow pin); the plan sends the result to asyncpg itself. A
    change there fails tests/test_library_internals.py and the compiled tests, never a request
    (the executor answers)."""

    def __init__(self, capacity: int = 32) -> None:
        self._compiled: LRUCache[Any, Any] = LRUCache(capacity)
        # One compiled page per (entity, sort key, order direction, direction of travel,
        # which cursor and whether it holds a NULL): a handful per list root, whose columns
        # are fixed.
        self._unfiltered_pages: LRUCache[tuple[Any, ...], SQLCompiler] = LRUCache(capacity)

    def render(
        self, statement: sa.Select[Any], parameters: Mapping[str, Any] | None = None
    ) -> tuple[str, tuple[Any, ...]]:
        """The SQL and positional values; `parameters` fills bind parameters left without a
        value (the tenant filter's)."""
        compiled, values = compile_cached(statement, DIALECT, self._compiled, parameters)
        return positional_values(compiled, values)

    def render_page(
        self, query: PageQuery[object], columns: tuple[Any, ...], tenant: Any
    ) -> tuple[str, tuple[Any, ...]]:
        """A page of `columns` (fixed for this object's list root) in the tenant. Without
        conditions, the statement's only values are its named parameters (cursor, limit,
        tenant), so the compiled page of its shape takes this request's values: building and
        rendering the statement was the larger part of a small page's own cost."""
        bounds = query.bounds()
        tenant_value = {TENANT_PARAMETER: tenant}
        if query.conditions:
            return self.render(_scoped_page(query, columns, bounds), tenant_value)
        shape = query.shape(bounds)  # the direction of travel and the cursor's side
        compiled = self._unfiltered_pages.get(shape)
        if compiled is None:
            compiled = _scoped_page(query, columns, bounds).compile(dialect=DIALECT)
            self._unfiltered_pages[shape] = compiled
        values = compiled.construct_params(params={**bounds, **tenant_value}, escape_names=False)
        return positional_values(compiled, values)


def _scoped_page(
    query: PageQuery[object], columns: tuple[Any, ...], bounds: dict[str, Any]
) -> sa.Select[Any]:
    return query.statement(columns, bounds).options(*READ_FILTERS)
