"""The merge fields of companies and contacts: `mergedFrom` (the ids a record absorbed, one
statement per level through a loader) and `mergedInto` (the survivor of a record shown as it
was merged). Both have resolvers, so a query that selects them is answered by the executor,
not the compiled path (resolvers/compiled); so is `company(id:)` for an id merged away (the
compiled path finds no row and leaves the answer to the resolver, which follows the
tombstone)."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from strawberry.types import Info

from app.services.merges import queries
from resolvers.common.relations import rows_field
from resolvers.context import Context

MERGED_FROM = (
    "The ids of the records merged into this one, oldest merge first (including those merged "
    "into a record that was merged into this one later). Each still resolves: "
    "`company(id:)` / `contact(id:)` of such an id answers this record."
)
MERGED_INTO = (
    "The id of the record this one was merged into. Null on every live record: it is set "
    "only on the `merged` records a merge answers with (shown as they were just before the "
    "merge, or in a dry run as they are), so a client can follow them to the survivor. Reading "
    "a merged id with `company(id:)` / `contact(id:)` answers the survivor itself (its `id` "
    "differs from the id asked for, and its `mergedFrom` lists that id)."
)


class MergedView:
    """A merged record's row as it was, with the survivor it went into (`mergedInto`)."""

    def __init__(self, row: Any, merged_into: uuid.UUID) -> None:
        self._row = row
        self.merged_into = merged_into

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


async def merged_from_of(
    info: Info[Context, None], kind: str, record_id: Any
) -> list[strawberry.ID]:
    scope = info.context.scope

    async def load(ids: list[uuid.UUID]) -> list[list[uuid.UUID]]:
        return await queries.merged_from(scope, kind, ids)

    merged = await info.context.loaders.custom(f"merged-from-{kind}", load).load(record_id)
    return [strawberry.ID(str(i)) for i in merged]


async def _company_merged_from(
    root: strawberry.Parent[Any], info: Info[Context, None]
) -> list[strawberry.ID]:
    return await merged_from_of(info, "company", root.id)


async def _contact_merged_from(
    root: strawberry.Parent[Any], info: Info[Context, None]
) -> list[strawberry.ID]:
    return await merged_from_of(info, "contact", root.id)


def _merged_into(root: strawberry.Parent[Any]) -> strawberry.ID | None:
    merged_into = getattr(root, "merged_into", None)
    return None if merged_into is None else strawberry.ID(str(merged_into))


def company_merged_from() -> Any:
    return rows_field(_company_merged_from, MERGED_FROM)


def contact_merged_from() -> Any:
    return rows_field(_contact_merged_from, MERGED_FROM)


def merged_into() -> Any:
    return strawberry.field(resolver=_merged_into, description=MERGED_INTO)
