"""A record's `possibleDuplicates`: its candidates (computed when asked for) with their rows."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from app.data.pagination import clamp_first
from app.services.companies.rules import COMPANY
from app.services.contacts.rules import CONTACT
from app.services.duplicates import queries
from app.services.duplicates.rules import Candidate, DuplicateKind
from resolvers.common.relations import FIELD_COST
from resolvers.context import Context

if TYPE_CHECKING:
    from resolvers.duplicates.types import DuplicateCandidate

ENTITIES: dict[DuplicateKind, Any] = {
    DuplicateKind.COMPANY: COMPANY,
    DuplicateKind.CONTACT: CONTACT,
}
POSSIBLE_DEFAULT = 5
# What one duplicate check adds to the query cost, per record that asks it (README, "Query
# cost"): a check is two or three index reads, a page of 200 companies asking it 600.
CHECK_COST = 5_000


async def rows_of(
    info: Info[Context, None], kind: DuplicateKind, ids: list[uuid.UUID]
) -> list[Any]:
    """Each record's row (None if gone since, or trashed), one statement per batch."""
    loader = info.context.loaders.by_id(ENTITIES[kind])
    return list(await asyncio.gather(*(loader.load(record_id) for record_id in ids)))


async def with_records(
    info: Info[Context, None], kind: DuplicateKind, found: list[Candidate]
) -> list[DuplicateCandidate]:
    from resolvers.duplicates.types import DuplicateCandidate  # the type names Company: a cycle

    rows = await rows_of(info, kind, [c.record_id for c in found])
    return [
        DuplicateCandidate.of(kind, candidate, row)
        for candidate, row in zip(found, rows, strict=True)
        if row is not None
    ]


async def possible_duplicates(
    info: Info[Context, None], kind: DuplicateKind, record_id: uuid.UUID, first: int | None
) -> list[DuplicateCandidate]:
    size = clamp_first(first, default=POSSIBLE_DEFAULT, maximum=queries.MAX_CANDIDATES)
    found = await queries.candidates_of_record(info.context.scope, kind, record_id, size)
    return await with_records(info, kind, found)


DuplicateCandidateRef = Annotated[
    "DuplicateCandidate", strawberry.lazy("resolvers.duplicates.types")
]
POSSIBLE = (
    "Records that may be this one's duplicates, strongest first (duplicateCandidates with "
    "this record's id): ask for it in a create or update answer to warn before it is used. "
    "Computed when asked for; each costs {cost} in the query cost."
)


PossibleFirst = Annotated[
    int | None,
    strawberry.argument(
        description=f"At most this many candidates, 0 to {queries.MAX_CANDIDATES} (null or "
        f"unset: {POSSIBLE_DEFAULT}; more is BAD_USER_INPUT)."
    ),
]


def possible_duplicates_field(kind: DuplicateKind) -> Any:
    """The `possibleDuplicates(first: Int = 5)` field of a company or contact."""

    async def resolve(
        root: strawberry.Parent[Any],
        info: Info[Context, None],
        first: PossibleFirst = POSSIBLE_DEFAULT,
    ) -> list[DuplicateCandidateRef]:
        return await possible_duplicates(info, kind, root.id, first)

    return strawberry.field(
        resolver=resolve,
        description=POSSIBLE.format(cost=f"{CHECK_COST:,}"),
        metadata={FIELD_COST: CHECK_COST},
    )
