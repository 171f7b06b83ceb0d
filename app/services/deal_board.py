"""The live deal board: which committed deal changes concern one pipeline's board."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlmodel import col

from app.events.hub import EventHub
from app.events.message import CrmEventMessage
from app.services import batch_reads, records
from app.services.deals import DEAL
from app.services.events import EventFilter, follow_events
from app.services.pipelines import PIPELINE
from app.tenancy import TenantScope
from models import CrmEvent, Deal

# One event per change of a card: `stage_changed`, `won`, ... accompany an `updated`.
BOARD_EVENTS = (
    "crm.deal.created",
    "crm.deal.updated",
    "crm.deal.deleted",
    "crm.deal.owner_added",
    "crm.deal.owner_updated",
    "crm.deal.owner_removed",
)


@dataclass(frozen=True)
class BoardChange:
    event: CrmEventMessage
    deal: Row[Any] | None  # as it is now; None once it left the board
    deal_id: uuid.UUID

    @property
    def on_board(self) -> bool:
        return self.deal is not None


async def follow_board(
    scope: TenantScope, hub: EventHub, pipeline_id: uuid.UUID
) -> AsyncIterator[BoardChange]:
    """Every create, update, move, owner change and delete of a deal on this pipeline's board
    (including deals that move onto it or off it), as it commits.

    Which deals are on the board is followed through the events themselves, in order, from a
    snapshot taken with the starting event id: a card's later move cannot hide its earlier
    changes from the board it was on."""
    await records.get_row(scope, PIPELINE, pipeline_id)  # NOT_FOUND for unknown ids
    members: set[uuid.UUID] = set()

    async def start() -> int:
        latest, on_board = await _snapshot(scope, pipeline_id)
        members.update(on_board)
        return latest

    board_filter = EventFilter(types=BOARD_EVENTS)
    async for event in follow_events(scope, hub, board_filter, None, start=start):
        if not _concerns_board(members, str(pipeline_id), event):
            continue
        deal = None
        if event.entity_id in members:
            [deal] = await batch_reads.rows_by_ids(scope, DEAL, [event.entity_id])
            if deal is None:  # deleted since: its own event follows
                continue
        yield BoardChange(event, deal, event.entity_id)


async def _snapshot(scope: TenantScope, pipeline_id: uuid.UUID) -> tuple[int, set[uuid.UUID]]:
    """The latest event id and the deals on the board then, from one consistent read."""
    deals = (
        sa.select(sa.func.array_agg(col(Deal.id)))
        .where(col(Deal.pipeline_id) == pipeline_id)
        .scalar_subquery()
    )
    statement = sa.select(sa.func.coalesce(sa.func.max(col(CrmEvent.seq)), 0), deals)
    async with scope.reading() as session:
        latest, ids = (await session.execute(statement)).one()
    return int(latest), set(ids or ())


def _concerns_board(members: set[uuid.UUID], pipeline_id: str, event: CrmEventMessage) -> bool:
    """Whether the event is about a card of the board (before or after it); keeps `members`."""
    deal_id = event.entity_id
    was_here = deal_id in members
    if event.type == "crm.deal.deleted":
        members.discard(deal_id)
        return was_here
    if "pipelineId" in event.changes:  # created, or moved between pipelines
        if event.changes["pipelineId"][1] == pipeline_id:
            members.add(deal_id)
        else:
            members.discard(deal_id)
    return was_here or deal_id in members
