"""crmEvents and dealChanged: live events over WebSocket, scoped to the caller's tenant.

A connection's subscription limit is taken when the operation is admitted (app/web/ws_admission.py),
not here: a generator's body runs only once the operation is under way. When live events are
lost (Redis away), the socket closes with 1013 (`until_lost`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated, TypeVar

import strawberry
from starlette.websockets import WebSocket
from strawberry.types import Info

from app.events.hub import LiveEventsLost
from app.events.message import CrmEventMessage
from app.services.deals import board as deal_board
from app.services.events import queries as service
from app.services.pipelines.rules import STAGE
from resolvers.common.inputs import parse_id
from resolvers.context import Context
from resolvers.deals.types import DealChange
from resolvers.events.types import CrmEventType, EntityIdFilter, EventTypes
from resolvers.permissions import CanRead

T = TypeVar("T")
# After the close frame the protocol handler cancels the socket's operations; this one waits
# for that rather than answer on a closing socket (bounded: a client that never answers).
CLOSING_SECONDS = 10.0


async def until_lost(context: Context, stream: AsyncIterator[T]) -> AsyncGenerator[T]:
    """The stream, until the event hub loses Redis: then a subscription that just stopped would
    leave its client waiting for events that cannot arrive, and an error frame would end one
    operation without saying when to come back. The socket closes instead, with 1013 (Try
    Again Later) and a reason naming SERVICE_UNAVAILABLE: clients reconnect (with backoff)
    and resume with `after`, which replays what they missed from the outbox."""
    try:
        async for item in stream:
            yield item
    except LiveEventsLost as lost:
        if not isinstance(context.request, WebSocket):
            raise
        with contextlib.suppress(RuntimeError, OSError):  # another operation closed it first
            await context.request.close(code=lost.close_code, reason=lost.reason)
        await asyncio.sleep(CLOSING_SECONDS)
        raise


@strawberry.type
class EventSubscriptions:
    @strawberry.subscription(
        permission_classes=[CanRead],
        description="The tenant's events as they commit (every role, over WebSocket). With "
        "`after` (an event id), the stored events after it first, then live: no gap, no "
        "duplicate. When the server loses Redis the socket closes with 1013: reconnect and "
        "resume with `after`.",
        graphql_type=CrmEventType,
    )
    async def crm_events(
        self,
        info: Info[Context, None],
        types: EventTypes = None,
        entity_id: EntityIdFilter = None,
        after: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="The last event id the client saw: the stored events after it "
                "are replayed first. One newer than the tenant's latest event, or not a whole "
                "number, is BAD_USER_INPUT. Unset: live events only."
            ),
        ] = None,
    ) -> AsyncGenerator[CrmEventMessage, None]:
        context = info.context
        entity = parse_id(entity_id, "entityId") if entity_id else None
        query_filter = service.event_filter(types, entity)
        resume = service.parse_event_id(after)
        await service.check_resume_point(context.scope, resume)
        stream = service.follow_events(context.scope, context.hub, query_filter, resume)
        async for event in until_lost(context, stream):
            context.refresh_loaders()
            yield event

    @strawberry.subscription(
        permission_classes=[CanRead],
        description="The live deal board (every role, over WebSocket): each deal of the "
        "pipeline as it is created, updated, moved (also onto or off the board), re-owned, "
        "merged, deleted or restored.",
    )
    async def deal_changed(
        self,
        info: Info[Context, None],
        pipeline_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The pipeline whose board to follow; unknown: NOT_FOUND."
            ),
        ],
    ) -> AsyncGenerator[DealChange, None]:
        context = info.context
        pipeline = parse_id(pipeline_id, "pipelineId")
        board = deal_board.follow_board(context.scope, context.hub, pipeline)
        async for change in until_lost(context, board):
            context.refresh_loaders()
            if change.stage is not None:  # read with the card: its loader need not
                context.loaders.by_id(STAGE).prime(change.stage.id, change.stage)
            yield DealChange(
                event=change.event,
                deal_id=strawberry.ID(str(change.deal_id)),
                deal=change.deal,
                on_board=change.on_board,
            )
