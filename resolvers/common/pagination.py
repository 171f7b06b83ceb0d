"""Relay-style connections built from a service `Page`; totalCount runs only when asked for."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Generic, TypeVar, cast

import strawberry
from strawberry.types import Info

from app.data.pagination import Page, PageQuery, PageRequest, clamp_first, read_page
from app.data.tenancy import TenantScope
from app.errors import BadUserInput
from app.settings import Settings
from resolvers.common.enums import OrderDirection
from resolvers.common.relations import COUNT
from resolvers.context import Context

NodeT = TypeVar("NodeT")


@strawberry.type(description="Where a page lies in its list, and the cursors to page on.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="More records follow this page: ask again with `after: endCursor`. After "
        "a `before`, always true."
    )
    has_previous_page: bool = strawberry.field(
        description="More records come before this page: ask again with `last` and `before: "
        "startCursor`. Paging forward, true when `after` was sent."
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the page's first record; null on an empty page."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the page's last record; null on an empty page."
    )


@strawberry.type(description="One record of a page, with its cursor.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(
        description="Where this record stands in the list and order asked for (opaque; valid "
        "for `after`/`before` of the same list and order only, also after the record changed)."
    )
    node: NodeT = strawberry.field(description="The record.")


@strawberry.type(
    description="A page of a list (a Relay connection): the records in the list's order with "
    "their cursors, where the page lies, and the total on demand."
)
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(
        description="The page's records in the list's order, each with its cursor; at most "
        "the `first` or `last` asked for."
    )
    page_info: PageInfo = strawberry.field(description="Whether more records lie either side.")
    count_items: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="Number of items matching the filter, across all pages.",
        metadata={COUNT: True},
    )
    async def total_count(self) -> int:
        return await self.count_items()


@dataclass(frozen=True)
class PageArguments:
    """What a list field was asked: `first`/`after` from the start, or `last`/`before` from
    the end (one cursor of either name and one size of either name per page)."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


def page_request(settings: Settings, arguments: PageArguments, descending: bool) -> PageRequest:
    """The page a list field asks for, within the configured page-size limits. `first` with
    `last`, or `after` with `before`, are refused (Relay allows them, nobody needs them)."""
    if arguments.first is not None and arguments.last is not None:
        raise BadUserInput.single("last", "cannot be combined with first")
    if arguments.after is not None and arguments.before is not None:
        raise BadUserInput.single("before", "cannot be combined with after")
    # `before` alone pages backward, as `last` does: the rows just before the cursor.
    backward = arguments.last is not None or (
        arguments.first is None and arguments.before is not None
    )
    asked, name = (arguments.last, "last") if backward else (arguments.first, "first")
    size = clamp_first(
        asked, default=settings.default_page_size, maximum=settings.max_page_size, argument=name
    )
    return PageRequest(
        first=size,
        after=arguments.after,
        descending=descending,
        before=arguments.before,
        backward=backward,
    )


async def paged(
    info: Info[Context, None],
    arguments: PageArguments,
    direction: OrderDirection,
    list_page: Callable[[TenantScope, PageRequest], Awaitable[Page[NodeT]]],
    count: Callable[[TenantScope], Awaitable[int]],
) -> Connection[NodeT]:
    """A list field: the page the client asked for, with a totalCount run only on demand."""
    context = info.context
    descending = direction is OrderDirection.DESC
    page = await list_page(context.scope, page_request(context.settings, arguments, descending))
    return connection_from_page(page, partial(count, context.scope))


@dataclass(frozen=True)
class PlannedInfo:
    """The `info` the compiled execution path gives a root resolver: the context only (any
    other attribute is missing, and the operation falls back to the normal executor). A list
    field answers it with its page query, unrun, for the plan to run (`PlannedPage`)."""

    context: Context


@dataclass(frozen=True)
class PlannedPage:
    query: PageQuery[object]
    count_items: Callable[[], Awaitable[int]]


async def paged_rows(
    info: Info[Context, None] | PlannedInfo,
    arguments: PageArguments,
    direction: OrderDirection,
    page_query: Callable[[PageRequest], PageQuery[NodeT]],
    count: Callable[[TenantScope], Awaitable[int]],
) -> Connection[NodeT]:
    """A list field over one table's rows: the page the client asked for, with a totalCount
    run only on demand. Given a `PlannedInfo`, the page query itself (see there)."""
    if not isinstance(info, PlannedInfo):

        def list_page(scope: TenantScope, request: PageRequest) -> Awaitable[Page[NodeT]]:
            return read_page(scope, page_query(request))

        return await paged(info, arguments, direction, list_page, count)
    context = info.context
    request = page_request(context.settings, arguments, direction is OrderDirection.DESC)
    planned = PlannedPage(page_query(request), partial(count, context.scope))
    # The compiled path's contract: asked with a PlannedInfo, the resolver answers the query
    # unrun (resolvers/compiled/run.py reads it), in place of the Connection it types.
    return cast(Connection[NodeT], planned)


def connection_from_page(
    page: Page[NodeT], count_items: Callable[[], Awaitable[int]]
) -> Connection[NodeT]:
    edges = [Edge(cursor=c, node=row) for c, row in zip(page.cursors, page.rows, strict=True)]
    info = PageInfo(
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        start_cursor=page.cursors[0] if page.cursors else None,
        end_cursor=page.cursors[-1] if page.cursors else None,
    )
    return Connection(edges=edges, page_info=info, count_items=count_items)
