"""The live deal board: which committed deal changes concern one pipeline's board."""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.data import records
from app.data.tenancy import TenantScope
from app.events.hub import EventHub
from app.events.message import CrmEventMessage
from app.services.deals.rows import DealRow
from app.services.deals.rules import DEAL
from app.services.events.queries import EventFilter, follow_events
from app.services.pipelines.rows import StageRow
from app.services.pipelines.rules import PIPELINE, STAGE
from models import CrmEvent, Deal, PipelineStage

# A merge re-points deals without events of their own (app/services/merges): its one event
# lists the deals that moved, and each of them on this board is shown as it is now.
MERGE_EVENTS = ("crm.company.merged", "crm.contact.merged")
# One event per change of a card: `stage_changed`, `won`, ... accompany an `updated`.
BOARD_EVENTS = (
    "crm.deal.created",
    "crm.deal.updated",
    "crm.deal.deleted",  # moved to the trash: the card goes
    "crm.deal.restored",  # back from the trash: its changes carry its pipelineId, as a create's
    "crm.deal.owner_added",
    "crm.deal.owner_updated",
    "crm.deal.owner_removed",
    *MERGE_EVENTS,
)


@dataclass(frozen=True)
class BoardChange:
    event: CrmEventMessage
    deal: DealRow | None  # as it is now; None once it left the board
    deal_id: uuid.UUID
    stage: StageRow | None = None  # the deal's stage, read with it (every card shows one)

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
        if event.type in MERGE_EVENTS:
            for deal_id in _moved_cards(members, event):
                deal, stage = await _card(scope, deal_id)
                if deal is not None:
                    yield BoardChange(event, deal, deal_id, stage)
            continue
        if not _concerns_board(members, str(pipeline_id), event):
            continue
        deal = stage = None
        if event.entity_id in members:
            deal, stage = await _card(scope, event.entity_id)
            if deal is None:  # deleted since: its own event follows
                continue
        yield BoardChange(event, deal, event.entity_id, stage)


async def _card(scope: TenantScope, deal_id: uuid.UUID) -> tuple[DealRow | None, StageRow | None]:
    """The deal and its stage, in one statement: every event waits for this read before its
    first delivery, and each statement more (or the stage loader's own transaction) would
    add round trips to that wait."""
    async with scope.reading() as reads:
        found = (await reads.execute_rows(_card_statement(), {"crm_deal_id": deal_id})).first()
    if found is None:
        return None, None
    width = len(DEAL.columns)
    deal, stage = DEAL.row_of(found[:width]), STAGE.row_of(found[width:])
    return deal, (stage if stage.id is not None else None)


@functools.cache
def _card_statement() -> sa.Select[Any]:
    """Built once: SQLAlchemy keys and compiles it once, not on every event."""
    on_stage = DEAL.column("stage_id") == STAGE.id
    return (
        sa.select(*DEAL.columns, *STAGE.columns)
        .join_from(Deal, PipelineStage, on_stage, isouter=True)
        .where(DEAL.id == sa.bindparam("crm_deal_id", type_=sa.Uuid()))
    )


async def _snapshot(scope: TenantScope, pipeline_id: uuid.UUID) -> tuple[int, set[uuid.UUID]]:
    """The latest event id and the deals on the board then, from one consistent read."""
    deals = (
        sa.select(sa.func.array_agg(col(Deal.id)))
        .where(col(Deal.pipeline_id) == pipeline_id)
        .scalar_subquery()
    )
    statement = sa.select(sa.func.coalesce(sa.func.max(col(CrmEvent.seq)), 0), deals)
    async with scope.reading() as reads:
        latest, ids = (await reads.execute_rows(statement)).one()
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


def _moved_cards(members: set[uuid.UUID], event: CrmEventMessage) -> list[uuid.UUID]:
    """The deals of the board a merge's event says it re-pointed."""
    moved = event.changes.get("moved", {}).get("deals", {}).get("moved", [])
    return [deal_id for deal_id in map(uuid.UUID, moved) if deal_id in members]
