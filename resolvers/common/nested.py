"""Nested lists that can grow, as connections (`company.contacts(first:, after:)`): the
top-level list's Connection type, cursors and orders, one statement per level for all parents
(app/data/child_pages.py), the count in that statement only when `totalCount` is selected.

A field is declared with `nested_connection(spec, resolver)`; the compiled path
(resolvers/compiled) reads the same `NestedList` from the field's metadata, so both paths
page, order and count alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

from app.data.child_pages import ChildPage, ChildPages
from app.data.pagination import Page
from app.data.records import Entity, RowT
from app.data.sort_keys import SortKey
from app.settings import Settings
from resolvers.common.described import PAGE_SIZE_LIMIT
from resolvers.common.pagination import (
    Connection,
    PageArguments,
    connection_from_page,
    page_request,
)
from resolvers.common.relations import ChildOrder
from resolvers.context import Context

ViewT = TypeVar("ViewT")
ItemT = TypeVar("ItemT")
NESTED_PAGE = "insight-crm.nested-page"  # field metadata: the field's NestedList
NESTED_PAGE_SIZE = 50  # a nested list's `first` when the client sends none
TOTAL_COUNT = "totalCount"

NestedFirst = Annotated[
    int | None,
    strawberry.argument(
        description="How many to show from the start of the list (after `after`): 50 unless "
        f"`last` is given; {PAGE_SIZE_LIMIT}. Not together with `last`."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Continue after this cursor (an edge's `cursor` or `pageInfo.endCursor` "
        "of this list in the same order; the top-level list's cursors work too). A cursor of "
        "another order is BAD_USER_INPUT; not together with `before`."
    ),
]
Last = Annotated[
    int | None,
    strawberry.argument(
        description="How many to show from the end of the list (before `before`), instead "
        f"of `first`; {PAGE_SIZE_LIMIT}."
    ),
]
Before = Annotated[
    str | None,
    strawberry.argument(
        description="Show the records just before this cursor (`pageInfo.startCursor` to "
        "page back); not together with `after`."
    ),
]


@dataclass(frozen=True)
class NestedList(Generic[RowT]):
    """The children of a parent whose `parent_column` holds its id, paged as the top-level
    list of `entity` pages them: `key_of(field, *rest)` is that list's sort key of an order
    field (`rest`: the order's currency, where it has one), `default` the order
    (field, descending) the nested list shows without `orderBy`; `or_column`: a second
    column that makes a row the parent's child too (a relationship's target company)."""

    entity: Entity[RowT]
    parent_column: str
    key_of: Callable[..., SortKey]
    default: tuple[Any, bool]
    or_column: str | None = None

    def pages(
        self,
        settings: Settings,
        arguments: PageArguments,
        order: ChildOrder,
    ) -> ChildPages[RowT]:
        """The page each parent shows for these arguments (BAD_USER_INPUT for a size out of
        range or a first with a last; a bad cursor when its bounds are read)."""
        field, descending, *rest = order if order is not None else self.default
        first = arguments.first
        if arguments.last is not None and first == NESTED_PAGE_SIZE:
            first = None  # the schema's default `first` yields to a `last`
        asked = PageArguments(first, arguments.after, arguments.last, arguments.before)
        request = page_request(settings, asked, descending)
        key = self.key_of(field, *rest)
        return ChildPages(self.entity, self.parent_column, key, request, self.or_column)


def nested_connection(
    spec: NestedList[Any], resolver: Callable[..., object], description: str
) -> Any:
    """A nested list field returning the top-level list's Connection type (the class
    annotation), resolved by `resolver` (see `nested_page`)."""
    return strawberry.field(
        resolver=resolver, description=description, metadata={NESTED_PAGE: spec}
    )


def asks_total(selections: Iterable[Selection]) -> bool:
    """Whether a connection's selection (fragments included) names `totalCount`."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == TOTAL_COUNT:
                return True
        elif asks_total(selection.selections):
            return True
    return False


async def nested_page(
    info: Info[Context, None],
    spec: NestedList[RowT],
    parent_id: uuid.UUID,
    arguments: PageArguments,
    order: ChildOrder,
) -> Connection[RowT]:
    """One parent's page of a nested list, through the level's loader: every parent of the
    level asked with the same arguments costs one statement together."""
    return nested_connection_of(await _child_page(info, spec, parent_id, arguments, order))


async def nested_page_seen_from(
    info: Info[Context, None],
    spec: NestedList[RowT],
    parent_id: uuid.UUID,
    arguments: PageArguments,
    order: ChildOrder,
    seen: Callable[[RowT, uuid.UUID], ViewT],
) -> Connection[ViewT]:
    """`nested_page` of rows shown as `seen(row, parent_id)` makes them (a relationship seen
    from the company it is listed on: its direction and other side)."""
    found = await _child_page(info, spec, parent_id, arguments, order)
    page = found.page
    views = [seen(row, parent_id) for row in page.rows]
    shown = Page(views, page.cursors, page.has_next_page, page.has_previous_page)
    return nested_connection_of(ChildPage(shown, found.total))


async def nested_page_by_key(
    info: Info[Context, None],
    spec: NestedList[RowT],
    key: uuid.UUID | None,
    arguments: PageArguments,
) -> Connection[RowT]:
    """`nested_page` of the children whose `parent_column` holds `key`, a value of the
    parent other than its id (a record's Lexware contact id); None: none (the arguments are
    checked all the same)."""
    return nested_connection_of(await _child_page(info, spec, key, arguments, None))


async def _child_page(
    info: Info[Context, None],
    spec: NestedList[RowT],
    parent_id: uuid.UUID | None,
    arguments: PageArguments,
    order: ChildOrder,
) -> ChildPage[RowT]:
    context = info.context
    pages = spec.pages(context.settings, arguments, order)
    counted = any(asks_total(field.selections) for field in info.selected_fields)
    if parent_id is None:  # nothing to read: an empty page, as the statement would find
        pages.bounds()  # a bad cursor is BAD_USER_INPUT here too
        no_rows: list[Any] = []
        empty = pages.query().page(no_rows, _no_position)
        return ChildPage(empty, 0 if counted else None)
    return await context.loaders.child_pages(pages, counted).load(parent_id)


def _no_position(row: object) -> tuple[None, None]:
    raise AssertionError("an empty page has no row to place")


def nested_connection_of(found: ChildPage[ItemT]) -> Connection[ItemT]:
    """The Connection of a parent's page; its totalCount is the count the statement read."""
    total = found.total

    async def count_items() -> int:
        assert total is not None, "totalCount is read only when it was selected"
        return total

    return connection_from_page(found.page, count_items)
