"""Pages of a nested list (`company.contacts(first:, after:)`) for every parent of a level in
one statement: each parent's page, one row more to know whether more exist, and its
totalCount when asked for.

The statement is a LATERAL join over the parents' ids:

    SELECT page.*, parents.id AS crm_parent [, (SELECT count(*) ...) AS crm_total]
    FROM unnest(:crm_parents) AS parents(id)
    [LEFT OUTER] JOIN LATERAL (<the top-level list's page query, WHERE parent = parents.id>)
    ...

so each parent's page is an index read that stops after its `first + 1` rows (a window
over all children of all parents reads every child of every parent), and cursors are the
top-level list's (`PageQuery`: same order names, same keyset), so a nested list's `after`
and the top-level list's mean the same. The total is a correlated count in the same
statement, added only when `totalCount` is selected (a LEFT JOIN then keeps the parents whose
page is empty, an `after` past the end, to carry their count); without it the statement is
what the page needs and no more.

A child of two parent columns (a company relationship: its source and its target company)
names the second as `or_column`: each parent's page holds the rows whose either column is the
parent, `parent_column = parents.id OR or_column = parents.id`, which PostgreSQL reads as a
BitmapOr of the two columns' indexes per parent.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased

from app.data.pagination import SORT_LABEL, Page, PageQuery, PageRequest
from app.data.records import Entity, RowT
from app.data.sort_keys import SortKey
from app.data.tenancy import TenantScope

PARENTS = "crm_parents"  # the bind parameter: the level's parent ids, an array
PARENT_LABEL = "crm_parent"  # the parent id a row belongs to
TOTAL_LABEL = "crm_total"  # the parent's count of children (only when asked for)
_FILTERED_BY = ("tenant_id", "deleted_at")  # what the read filters compare, on the alias too

# The FROM and joins of a page statement: given the select of its columns, the statement with
# FROM parents JOIN LATERAL rows (the compiled path adds its joined rows after it).
Start = Callable[[sa.Select[Any]], sa.Select[Any]]
# The select of the columns read from the page's rows (the alias), starting with `start`.
PageSelect = Callable[[Any, Start], sa.Select[Any]]


@dataclass(frozen=True)
class ChildPage(Generic[RowT]):
    """One parent's page, and its count of children when it was asked for."""

    page: Page[RowT]
    total: int | None


@dataclass(frozen=True)
class ChildPages(Generic[RowT]):
    """The same page of `entity`'s rows whose `parent_column` (or `or_column`, if given) is
    the parent, for many parents: the top-level list's `key` order and `request` (size,
    cursor, direction)."""

    entity: Entity[RowT]
    parent_column: str
    key: SortKey
    request: PageRequest
    or_column: str | None = None

    def _is_child_of(self, parent: Any) -> Any:
        own = self.entity.column(self.parent_column) == parent
        if self.or_column is None:
            return own
        return sa.or_(own, self.entity.column(self.or_column) == parent)

    def query(self, parent: Any = None) -> PageQuery[RowT]:
        """The top-level list's page query of the children of `parent` (an SQL expression;
        None: the query only for its cursors, bounds and pages, never run)."""
        conditions = () if parent is None else (self._is_child_of(parent),)
        return PageQuery(self.entity, conditions, self.key, self.request)

    def bounds(self) -> dict[str, Any]:
        """The limit and the decoded cursor (a bad cursor is BAD_USER_INPUT here)."""
        return self.query().bounds()

    def shape(self, bounds: dict[str, Any], counted: bool) -> tuple[Any, ...]:
        """What the statement's text depends on besides its columns."""
        return (*self.query().shape(bounds), self.parent_column, self.or_column, counted)

    def statement(
        self,
        columns: Sequence[Any],
        bounds: dict[str, Any],
        *,
        counted: bool,
        parent_ids: Sequence[uuid.UUID] | None = None,
        select: PageSelect | None = None,
    ) -> sa.Select[Any]:
        """The page of every parent in `parent_ids` (None: a parameter filled per run), the
        entity's `columns` read through an alias of the page (so the read filters apply to
        its rows as to any) and by `select` if given."""
        entity = self.entity
        ids = sa.bindparam(PARENTS, parent_ids, type_=ARRAY(sa.Uuid()))
        parents = sa.func.unnest(ids).table_valued(sa.column("id", sa.Uuid())).render_derived()
        filtered = [name for name in _FILTERED_BY if name in entity.model.model_fields]
        parent_columns = [self.parent_column, *([self.or_column] if self.or_column else [])]
        names = [column.key for column in columns] + [*parent_columns, "id", *filtered]
        own = [entity.column(name) for name in dict.fromkeys(names)]
        rows = self.query(parents.c.id).statement(own, bounds).lateral("page")
        alias = aliased(entity.model, rows)

        def start(statement: sa.Select[Any]) -> sa.Select[Any]:
            # The ORM's join: the read filters of the page's rows go into its ON clause (in
            # WHERE they would drop the parents without rows that carry a count).
            return statement.select_from(parents).join(alias, sa.true(), isouter=counted)

        chosen = _select_of(columns) if select is None else select
        statement = chosen(alias, start).add_columns(
            parents.c.id.label(PARENT_LABEL), rows.c[SORT_LABEL]
        )
        if counted:
            statement = statement.add_columns(self._count(parents.c.id).label(TOTAL_LABEL))
        in_page = SortKey(self.key.name, rows.c[SORT_LABEL], nullable=self.key.nullable)
        order = in_page.order_by(alias.id, self.request.descending, reverse=self.request.backward)
        return statement.order_by(parents.c.id, *order)

    def _count(self, parent: Any) -> Any:
        entity = self.entity
        counting = sa.select(sa.func.count(entity.id)).where(self._is_child_of(parent))
        return counting.scalar_subquery()

    def pages(
        self,
        rows: Sequence[Any],
        parent_ids: Sequence[uuid.UUID],
        read: Callable[[Any, str], Any],
        id_of: Callable[[Any], Any],
        counted: bool,
    ) -> list[ChildPage[Any]]:
        """Each parent's page from the statement's rows (`read(row, label)` reads the parent,
        the sort value and the total; `id_of` the row's id, None in a counted parent's row
        without children), in the order of `parent_ids`."""
        grouped: dict[Any, list[Any]] = defaultdict(list)
        totals: dict[Any, int] = {}
        for row in rows:
            parent = read(row, PARENT_LABEL)
            if counted:
                totals[parent] = read(row, TOTAL_LABEL)
            if id_of(row) is not None:
                grouped[parent].append(row)
        query = self.query()

        def sort_value_and_id(row: Any) -> tuple[Any, Any]:
            return read(row, SORT_LABEL), id_of(row)

        return [
            ChildPage(
                query.page(grouped.get(parent, ()), sort_value_and_id),
                totals.get(parent, 0) if counted else None,
            )
            for parent in parent_ids
        ]


def _select_of(columns: Sequence[Any]) -> PageSelect:
    keys = [column.key for column in columns]

    def select(base: Any, start: Start) -> sa.Select[Any]:
        return start(sa.select(*[getattr(base, key) for key in keys]))

    return select


async def child_pages(
    scope: TenantScope, pages: ChildPages[RowT], parent_ids: Sequence[uuid.UUID], counted: bool
) -> list[ChildPage[RowT]]:
    """Each parent's page (and count, when `counted`), in the order of `parent_ids`, in one
    statement: a loader's batch."""
    statement = pages.statement(
        pages.entity.columns, pages.bounds(), counted=counted, parent_ids=list(parent_ids)
    )
    async with scope.reading() as reads:
        rows = (await reads.execute_rows(statement)).all()
    found = pages.pages(rows, parent_ids, getattr, lambda row: row.id, counted)
    return cast(list[ChildPage[RowT]], found)
