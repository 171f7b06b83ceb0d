"""Relations of a row, resolved through the request's loaders (one statement per level)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.data.pagination import clamp_first
from app.data.records import Entity
from resolvers.common.relations import Relation, ToMany
from resolvers.context import Context

NESTED_DEFAULT = 50
First = Annotated[int, strawberry.argument(description="At most this many (max 200).")]


def nested_limit(first: int, max_page_size: int) -> int:
    """The per-parent limit of a nested list (the compiled path applies the same)."""
    return clamp_first(first, default=NESTED_DEFAULT, maximum=max_page_size)


async def children_of(
    info: Info[Context, None],
    entity: Entity,
    parent_column: str,
    parent_id: Any,
    first: int,
    ordering: Iterable[Any],
) -> list[Any]:
    """At most `first` children of each parent, in one statement for the whole level."""
    context = info.context
    limit = nested_limit(first, context.settings.max_page_size)
    loader = context.loaders.by_parent(entity, parent_column, ordering, limit)
    return await loader.load(parent_id)


async def related(
    info: Info[Context, None], spec: Relation, root: Any, first: int | None = None
) -> Any:
    """What a declared relation (resolvers.common.relations) holds for one parent row."""
    loaders = info.context.loaders
    if isinstance(spec, ToMany):
        if spec.limited:
            assert first is not None
            return await children_of(
                info, spec.entity, spec.parent_column, root.id, first, spec.order_by
            )
        return await loaders.by_parent(spec.entity, spec.parent_column, spec.order_by).load(root.id)
    key = getattr(root, spec.key_column)
    return None if key is None else await loaders.by_id(spec.entity).load(key)
