"""Relations of a row, resolved through the request's loaders (one statement per level)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Annotated, Any, Protocol, TypeVar, overload

import strawberry
from strawberry.types import Info

from app.data.pagination import clamp_first
from app.data.records import Entity
from resolvers.common.described import PAGE_SIZE_LIMIT
from resolvers.common.relations import LINK_ID, ChildOrder, ToMany, ToOne
from resolvers.context import Context

RowT = TypeVar("RowT")

NESTED_DEFAULT = 50
First = Annotated[
    int,
    strawberry.argument(description=f"At most this many (50 when not sent); {PAGE_SIZE_LIMIT}."),
]


class Identified(Protocol):
    """A parent of children: any row (read-only, so a read model and a view both are one)."""

    @property
    def id(self) -> uuid.UUID: ...


def nested_limit(first: int, max_page_size: int) -> int:
    """The per-parent limit of a nested list (the compiled path applies the same)."""
    return clamp_first(first, default=NESTED_DEFAULT, maximum=max_page_size)


async def children_of(
    info: Info[Context, None],
    entity: Entity[RowT],
    parent_column: str,
    parent_id: uuid.UUID,
    first: int,
    ordering: Iterable[Any],
    order: ChildOrder = None,
) -> list[RowT]:
    """At most `first` children of each parent, in one statement for the whole level;
    `order` names `ordering` for the loader (one loader per order asked)."""
    context = info.context
    limit = nested_limit(first, context.settings.max_page_size)
    loader = context.loaders.by_parent(entity, parent_column, ordering, limit, order)
    return await loader.load(parent_id)


@overload
async def related(
    info: Info[Context, None],
    spec: ToMany[RowT],
    root: Identified,
    first: int | None = None,
    order: ChildOrder = None,
) -> list[RowT]: ...


@overload
async def related(
    info: Info[Context, None], spec: ToOne[RowT], root: Identified
) -> RowT | None: ...


async def related(
    info: Info[Context, None],
    spec: ToMany[RowT] | ToOne[RowT],
    root: Identified,
    first: int | None = None,
    order: ChildOrder = None,
) -> list[RowT] | RowT | None:
    """What a declared relation (resolvers.common.relations) holds for one parent row: the
    children of a `ToMany` (in `order`, its `orderBy`), the row (or None) of a `ToOne`."""
    loaders = info.context.loaders
    if isinstance(spec, ToMany):
        ordering = spec.ordered(order)
        if spec.limited:
            assert first is not None
            return await children_of(
                info, spec.entity, spec.parent_column, root.id, first, ordering, order
            )
        loader = loaders.by_parent(spec.entity, spec.parent_column, ordering, None, order)
        return await loader.load(root.id)
    key = getattr(root, spec.key_column)
    return None if key is None else await loaders.by_id(spec.entity).load(key)


def link_id_field(spec: ToOne[Any], description: str | None = None) -> Any:
    """A link's id (`contact.companyId`) as the link reads: the related row's id, null when
    the key is null or the row is hidden (in the trash). Read through the row's loader, the
    one its object field uses: asked together, they cost one statement."""

    async def link_id(
        root: strawberry.Parent[Any], info: Info[Context, None]
    ) -> strawberry.ID | None:
        row = await related(info, spec, root)
        return None if row is None else strawberry.ID(str(row.id))

    return strawberry.field(resolver=link_id, description=description, metadata={LINK_ID: spec})
