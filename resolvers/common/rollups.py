"""Roll-up fields of companies and contacts (app/services/rollups): figures over the record's
activities and deals. The executor reads them through one loader per record type, so a level
costs one statement whichever figures it selects; the compiled path reads the figures a
query selects as columns of the statement that fetches the records (`ROLLUP` metadata)."""

from __future__ import annotations

import uuid
from typing import Any

from strawberry.types import Info

from app.services.rollups.queries import MAX_CURRENCIES, Rollup, RollupOwner, rollups_by_ids
from app.services.rollups.rows import RollupRow
from resolvers.common.relations import LIST_SIZE, ROLLUP, rows_field
from resolvers.context import Context

LAST_ACTIVITY_AT = (
    "When the latest of this record's completed activities (those its `activities` lists) "
    "was completed: the latest `completedAt`. An activity happens when it is completed; one "
    "never completed, a note included, does not count. Null when none is completed."
)
NEXT_ACTIVITY_DUE_AT = (
    "The earliest `dueAt` of this record's open (not completed) activities, overdue ones "
    "included; activities without a due date do not count. Null when there is none."
)
OPEN_DEAL_COUNT = "How many of this record's deals (those its `deals` lists) are OPEN."
OPEN_DEAL_VALUE = (
    "The values of this record's OPEN deals summed per currency, ordered by currency code "
    "(empty without open deals; one entry per currency, at most one per ISO 4217 code)."
)


async def rollups_of(info: Info[Context, None], owner: RollupOwner, record: uuid.UUID) -> RollupRow:
    """The record's figures, read for the whole level in one statement (all figures at once:
    the level's records share the loader, whichever of the figures each field asks for)."""
    scope = info.context.scope

    async def load(ids: list[uuid.UUID]) -> list[RollupRow]:
        return await rollups_by_ids(scope, owner, ids)

    return await info.context.loaders.custom(f"rollups-of-{owner.link}", load).load(record)


def rollup_field(rollup: Rollup, resolver: Any, description: str) -> Any:
    metadata: dict[str, Any] = {ROLLUP: rollup}
    if rollup.figure == "open_deal_value":
        metadata[LIST_SIZE] = MAX_CURRENCIES  # the query cost's bound: money_amounts keeps it
    return rows_field(resolver, description, metadata)
