"""Nested lists with a per-parent limit (company.contacts, .deals, .activities, ...)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.services.pagination import clamp_first
from app.services.records import Entity
from resolvers.context import context_of

NESTED_DEFAULT = 50
First = Annotated[int, strawberry.argument(description="At most this many (max 200).")]


async def children_of(
    info: Info[Any, Any],
    entity: Entity,
    parent_column: str,
    parent_id: Any,
    first: int,
    ordering: Iterable[Any],
) -> list[Any]:
    """At most `first` children of each parent, in one statement for the whole level."""
    context = context_of(info)
    limit = clamp_first(first, default=NESTED_DEFAULT, maximum=context.settings.max_page_size)
    loader = context.loaders.by_parent(entity, parent_column, ordering, limit)
    return await loader.load(parent_id)
