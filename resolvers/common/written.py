"""The records a mutation answers with, read after its write: through the request's loaders,
which are empty at the start of each root mutation field (resolvers/mutation_roots.py), so a
payload's parent record is the committed one, never a value read before the write."""

from __future__ import annotations

import uuid

from strawberry.types import Info

from app.data.records import Entity, RowT
from app.errors import NotFound
from resolvers.context import Context


async def read_back(info: Info[Context, None], entity: Entity[RowT], row_id: uuid.UUID) -> RowT:
    """The record as committed; NOT_FOUND when the caller cannot see it (in the trash)."""
    row = await info.context.loaders.by_id(entity).load(row_id)
    if row is None:
        raise NotFound(entity.label)
    return row


async def read_back_if(
    info: Info[Context, None], entity: Entity[RowT], row_id: uuid.UUID | None
) -> RowT | None:
    """The record as committed, or null: no such link (an e-mail of a contact has no
    company), or a record the caller cannot see (in the trash)."""
    if row_id is None:
        return None
    return await info.context.loaders.by_id(entity).load(row_id)
