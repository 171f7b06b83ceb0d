"""What every root field of the Mutation type shares: it is nullable, and it answers with
loaders of its own.

Nullable: GraphQL runs a document's mutations one after another, each committing on its own.
A failing non-null root field nulls the whole `data`, so a client whose second mutation failed
never learned the id the first one had committed. Nullable, the failed field is null with its
error and the others keep their answers (`data.first` set, `data.second` null). The rule is
applied here, to the merged type, so that no mutation added later can forget it.

Fresh loaders: the per-request loaders cache what they read. A mutation's answer read through
them (a moved deal's `pipeline { summary }`) would be served what an earlier root field of the
same document read before this one wrote. Each root field starts with empty loaders, so its
answer is read after its own write, as committed.
"""

from __future__ import annotations

from typing import Any

from strawberry.annotation import StrawberryAnnotation
from strawberry.extensions.field_extension import (
    AsyncExtensionResolver,
    FieldExtension,
    SyncExtensionResolver,
)
from strawberry.types import Info
from strawberry.types.base import StrawberryOptional, get_object_definition

from resolvers.context import Context


class ReadAfterWrite(FieldExtension):
    """Empty loaders before a root mutation field runs (its answer reads what it wrote)."""

    def resolve(self, next_: SyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        _refresh(info)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        _refresh(info)
        return await next_(source, info, **kwargs)


def _refresh(info: Info) -> None:
    context = info.context
    if isinstance(context, Context) and context.signed_in:
        context.refresh_loaders()


def serial_mutations(mutation: type) -> type:
    """Make every field of the merged Mutation type nullable and read-after-write."""
    definition = get_object_definition(mutation, strict=True)
    for field in definition.fields:
        if not isinstance(field.type, StrawberryOptional):
            field.type_annotation = StrawberryAnnotation(StrawberryOptional(field.type))
        field.extensions.append(ReadAfterWrite())
    return mutation
