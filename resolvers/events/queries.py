"""events(...): the tenant's event history, a page at a time."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.events.message import CrmEventMessage
from app.services.events import queries as service
from resolvers.common.enums import OrderDirection
from resolvers.common.inputs import parse_id
from resolvers.common.pagination import Connection, PageArguments
from resolvers.context import Context
from resolvers.events.types import (
    CrmEventType,
    EntityIdFilter,
    EventAfter,
    EventTypes,
    event_page,
)
from resolvers.permissions import CanRead


@strawberry.type
class EventQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="The tenant's committed changes (every role), oldest first after the event "
        "id `after` (a resume cursor); `types` takes exact types or `crm.<entity>.*`. Cursors "
        "are the event ids themselves.",
        graphql_type=Connection[CrmEventType],
    )
    async def events(
        self,
        info: Info[Context, None],
        after: EventAfter = None,
        types: EventTypes = None,
        entity_id: EntityIdFilter = None,
        first: Annotated[
            int | None,
            strawberry.argument(
                description="How many events from the start (or after `after`): unset: "
                "DEFAULT_PAGE_SIZE (50); at most MAX_PAGE_SIZE (200). Not with `last`."
            ),
        ] = None,
        direction: Annotated[
            OrderDirection,
            strawberry.argument(description="ASC (the default): oldest first; DESC: newest first."),
        ] = OrderDirection.ASC,
        last: Annotated[
            int | None,
            strawberry.argument(
                description="How many events from the end (or before `before`), at most "
                "MAX_PAGE_SIZE (200). Not with `first`."
            ),
        ] = None,
        before: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="An event id: the events just before it, in the list's order. Not "
                "with `after`."
            ),
        ] = None,
    ) -> Connection[CrmEventMessage]:
        query_filter = service.event_filter(
            types, parse_id(entity_id, "entityId") if entity_id else None
        )
        arguments = PageArguments(first, after, last, before)
        return await event_page(info, query_filter, arguments, direction)
