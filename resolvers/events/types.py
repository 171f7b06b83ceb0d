"""CrmEvent: one committed change, as the events query, entity histories and live
subscriptions show it."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial
from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from app.events.message import CrmEventMessage
from app.services.events import queries as service
from app.services.members.rows import UserRow
from app.services.owners.rules import USER
from resolvers.common.enums import OrderDirection
from resolvers.common.pagination import (
    Connection,
    Edge,
    PageArguments,
    PageInfo,
    page_request,
)
from resolvers.common.relations import rows_field
from resolvers.context import Context
from resolvers.me.types import User

HistoryFirst = Annotated[
    int | None,
    strawberry.argument(
        description="How many events (after `after`): unset: DEFAULT_PAGE_SIZE (50); at most "
        "MAX_PAGE_SIZE (200), more is BAD_USER_INPUT."
    ),
]
HistoryAfter = Annotated[
    str | None,
    strawberry.argument(
        description="An event id (a cursor of this list): the events after it in `direction`. "
        "Anything but a non-negative whole number is BAD_USER_INPUT."
    ),
]
HistoryDirection = Annotated[
    OrderDirection,
    strawberry.argument(description="DESC (the default): newest first; ASC: oldest first."),
]


EventAfter = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="An event id (`CrmEvent.id`) already seen: only the events after it in the "
        "list's order (newer with ASC, older with DESC). Not a whole number: BAD_USER_INPUT."
    ),
]
EventTypes = Annotated[
    list[str] | None,
    strawberry.argument(
        description="Only these event types: exact (crm.deal.won) or every event of an entity "
        "(crm.deal.*); at most 50. Unset: every type; a malformed type is BAD_USER_INPUT."
    ),
]
EntityIdFilter = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="Only the events about this record (its entityId); unset: all records."
    ),
]


async def _actor(
    root: strawberry.Parent[CrmEventMessage], info: Info[Context, None]
) -> UserRow | None:
    if root.actor_id is None:
        return None
    return await info.context.loaders.by_id(USER).load(root.actor_id)


@strawberry.type(
    name="CrmEvent",
    description="A committed change. `id` grows with every event of the tenant (no gaps): "
    "pass the last one seen as `after` to resume.",
)
class CrmEventType:
    id: strawberry.ID = strawberry.field(
        description="The event's number within the tenant, a whole number as text, growing "
        "by one per event (no gaps): the cursor to resume from."
    )
    type: str = strawberry.field(
        description="crm.<entity>.<verb>, e.g. crm.deal.won, crm.company.owner_added, "
        "crm.contact.merged."
    )
    entity: str = strawberry.field(description="company, contact, deal, activity, pipeline, ...")
    entity_id: strawberry.ID = strawberry.field(
        description="The id of the record the change is about (a stage's change: its pipeline)."
    )
    actor_id: strawberry.ID | None = strawberry.field(
        description="The user who made the change; null for the system (crons)."
    )
    actor: User | None = rows_field(
        _actor, "The user who made the change; null for the system (crons, the retention)."
    )
    occurred_at: datetime = strawberry.field(description="When the change was committed (UTC).")
    changes: JSON = strawberry.field(
        description="Field -> [old, new], in API field names; a create lists [null, value], "
        "a delete [value, null]."
    )


async def event_page(
    info: Info[Context, None],
    query_filter: service.EventFilter,
    arguments: PageArguments,
    direction: OrderDirection,
) -> Connection[CrmEventMessage]:
    """A page of events; cursors are the event ids themselves. A backward page (`last`)
    reads from the list's end and turns the events round."""
    context = info.context
    descending = direction is OrderDirection.DESC
    request = page_request(context.settings, arguments, descending)
    after = service.parse_event_id(request.after)
    before = service.parse_event_id(request.before, "before")
    # Read backward, the list's order is turned round and the two cursors swap roles.
    newest_first = descending != request.backward
    low, high = (before, after) if descending else (after, before)
    rows = await service.list_events(
        context.scope,
        query_filter,
        after=high if newest_first else low,
        first=request.first + 1,
        descending=newest_first,
        until=low if newest_first else high,
        until_inclusive=False,
    )
    shown = rows[: request.first]
    more = len(rows) > request.first
    if request.backward:
        shown.reverse()
        has_previous, has_next = more, before is not None
    else:
        has_previous, has_next = after is not None, more
    edges = [Edge(cursor=event.id, node=event) for event in shown]
    page_info = PageInfo(
        has_next_page=has_next,
        has_previous_page=has_previous,
        start_cursor=shown[0].id if shown else None,
        end_cursor=shown[-1].id if shown else None,
    )
    count = partial(service.count_events, context.scope, query_filter)
    return Connection(edges=edges, page_info=page_info, count_items=count)


async def history_of(
    info: Info[Context, None],
    entity: str,
    entity_id: uuid.UUID,
    first: int | None,
    after: str | None,
    direction: OrderDirection,
) -> Connection[CrmEventMessage]:
    query_filter = service.EventFilter(entity=entity, entity_id=entity_id)
    return await event_page(info, query_filter, PageArguments(first, after), direction)
