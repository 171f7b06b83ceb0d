"""The batched reads behind the GraphQL loaders and the compiled plans: rows by id, and
children by parent with a per-parent limit, each in one statement.

Reads select plain rows (no ORM objects); every statement goes through the tenant scope.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.orm import aliased

from app.data.records import Entity, RowT
from app.data.tenancy import TenantScope

# What a statement selects from its entity's rows, given how it reaches them (the entity's
# model, or the alias a per-parent limit reads them through). By default the columns it is
# given; the compiled plans join to-one rows into them too.
RowsSelect = Callable[[Any], sa.Select[Any]]


def rows_by_ids_statement(
    entity: Entity[object], columns: Sequence[Any], ids: Any, *, select: RowsSelect | None = None
) -> sa.Select[Any]:
    """The rows whose id is in `ids` (a set, or an array parameter)."""
    select_rows = _select_of(columns) if select is None else select
    return select_rows(entity.model).where(_among(entity.id, ids))


def _select_of(columns: Sequence[Any]) -> RowsSelect:
    keys = [column.key for column in columns]
    return lambda base: sa.select(*[getattr(base, key) for key in keys])


def _among(column: Any, values: Any) -> Any:
    """`column` in a set of values (loaders), or in an array bind parameter (compiled plans,
    where one statement serves any number of values)."""
    return column.in_(values) if isinstance(values, set) else column == sa.any_(values)


async def rows_by_ids(
    scope: TenantScope, entity: Entity[RowT], ids: Sequence[uuid.UUID]
) -> list[RowT | None]:
    """Rows in the order of `ids` (None where missing): a by-id loader's batch."""
    async with scope.reading() as reads:
        statement = rows_by_ids_statement(entity, entity.columns, set(ids))
        found = {row.id: row for row in await reads.execute_rows(statement)}
    return cast(list[RowT | None], [found.get(row_id) for row_id in ids])


_RANK = "rank_in_parent"  # not a column name of any table
_FILTERED_BY = ("tenant_id", "deleted_at")  # the columns the read filters compare


def children_statement(
    entity: Entity[object],
    parent_column: str,
    columns: Sequence[Any],
    parent_ids: Any,
    order_by: Sequence[Any],
    limit: Any = None,
    *,
    select: RowsSelect | None = None,
) -> sa.Select[Any]:
    """Children of the parents in `parent_ids` (a set, or an array parameter), ordered, at
    most `limit` per parent (a window function applies it per parent). With `select`,
    `columns` are those of the entity that it reads."""
    parent = entity.column(parent_column)
    among = _among(parent, parent_ids)
    select_rows = _select_of(columns) if select is None else select
    if limit is None:
        return select_rows(entity.model).where(among).order_by(*order_by)
    # One scan: the window ranks the selected columns themselves (a self-join on the ranked
    # ids costs PostgreSQL a second lookup per row). The outer select reads the subquery as
    # the entity (an alias), so the tenant filter applies at both levels (the subquery
    # selects what the filters compare: the tenant, and the trash's `deleted_at`).
    rank = sa.func.row_number().over(partition_by=parent, order_by=list(order_by))
    model_fields = entity.model.model_fields
    filtered_by = [entity.column(name) for name in _FILTERED_BY if name in model_fields]
    own = sa.select(*columns, *filtered_by, rank.label(_RANK))
    ranked = own.where(among).subquery()
    alias = aliased(entity.model, ranked)
    return select_rows(alias).where(ranked.c[_RANK] <= limit).order_by(ranked.c[_RANK])


async def rows_by_parent(
    scope: TenantScope,
    entity: Entity[RowT],
    parent_column: str,
    parent_ids: Sequence[uuid.UUID],
    *,
    order_by: Iterable[Any],
    limit: int | None = None,
) -> list[list[RowT]]:
    """Children grouped by parent, in the order of `parent_ids`, at most `limit` per parent,
    in one statement."""
    statement = children_statement(
        entity, parent_column, entity.columns, set(parent_ids), list(order_by), limit
    )
    grouped: dict[uuid.UUID, list[Row[Any]]] = defaultdict(list)
    async with scope.reading() as reads:
        for row in await reads.execute_rows(statement):
            grouped[getattr(row, parent_column)].append(row)
    return cast(list[list[RowT]], [grouped.get(parent_id, []) for parent_id in parent_ids])
