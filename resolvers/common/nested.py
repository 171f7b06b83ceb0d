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
from typing import Annotated, Any, Generic

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

from app.data.child_pages import ChildPage, ChildPages
from app.data.pagination import SortKey
from app.data.records import Entity, RowT
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
    (field, descending) the nested list shows without `orderBy`."""

    entity: Entity[RowT]
    parent_column: str
    key_of: Callable[..., SortKey]
    default: tuple[Any, bool]

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
        return ChildPages(self.entity, self.parent_column, self.key_of(field, *rest), request)


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
    context = info.context
    pages = spec.pages(context.settings, arguments, order)
    counted = any(asks_total(field.selections) for field in info.selected_fields)
    found = await context.loaders.child_pages(pages, counted).load(parent_id)
    return nested_connection_of(found)


def nested_connection_of(found: ChildPage[RowT]) -> Connection[RowT]:
    """The Connection of a parent's page; its totalCount is the count the statement read."""
    total = found.total

    async def count_items() -> int:
        assert total is not None, "totalCount is read only when it was selected"
        return total

    return connection_from_page(found.page, count_items)
