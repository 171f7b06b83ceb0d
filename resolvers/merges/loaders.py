"""The merge fields of companies and contacts: `mergedFrom` (the ids a record absorbed: a
column of the statement that reads the records on the compiled path, as a roll-up figure is,
and one statement per level through a loader on the executor) and `mergedInto` (the survivor
of a record shown as it was merged: a resolver, so a query selecting it runs on the executor).
`company(id:)` of an id merged away: the compiled path finds no row and leaves the answer to
the resolver, which follows the tombstone."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from strawberry.types import Info

from app.services.merges import queries
from app.services.merges.queries import COMPANY_MERGED_FROM, CONTACT_MERGED_FROM, MergedFrom
from resolvers.common.rollups import rollup_field
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
    info: Info[Context, None], column: MergedFrom, record_id: Any
) -> list[strawberry.ID]:
    scope = info.context.scope

    async def load(ids: list[uuid.UUID]) -> list[list[uuid.UUID]]:
        return await queries.merged_from(scope, column, ids)

    name = f"merged-from-{column.owner.link}"
    merged = await info.context.loaders.custom(name, load).load(record_id)
    return [strawberry.ID(str(i)) for i in merged]


async def _company_merged_from(
    root: strawberry.Parent[Any], info: Info[Context, None]
) -> list[strawberry.ID]:
    return await merged_from_of(info, COMPANY_MERGED_FROM, root.id)


async def _contact_merged_from(
    root: strawberry.Parent[Any], info: Info[Context, None]
) -> list[strawberry.ID]:
    return await merged_from_of(info, CONTACT_MERGED_FROM, root.id)


def _merged_into(root: strawberry.Parent[Any]) -> strawberry.ID | None:
    merged_into = getattr(root, "merged_into", None)
    return None if merged_into is None else strawberry.ID(str(merged_into))


def company_merged_from() -> Any:
    return rollup_field(COMPANY_MERGED_FROM, _company_merged_from, MERGED_FROM)


def contact_merged_from() -> Any:
    return rollup_field(CONTACT_MERGED_FROM, _contact_merged_from, MERGED_FROM)


def merged_into() -> Any:
    return strawberry.field(resolver=_merged_into, description=MERGED_INTO)
