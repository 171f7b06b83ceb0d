"""events(...): the tenant's event history, a page at a time."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.events.message import CrmEventMessage
from app.services.events import queries as service
from resolvers.common.enums import OrderDirection
from resolvers.common.inputs import parse_id
from resolvers.common.pagination import Connection, PageArguments
from resolvers.context import Context
from resolvers.events.types import CrmEventType, event_page
from resolvers.permissions import CanRead


@strawberry.type
class EventQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="Committed changes, oldest first after the event id `after` (a resume "
        "cursor); `types` takes exact types or `crm.<entity>.*`.",
        graphql_type=Connection[CrmEventType],
    )
    async def events(
        self,
        info: Info[Context, None],
        after: strawberry.ID | None = None,
        types: list[str] | None = None,
        entity_id: strawberry.ID | None = None,
        first: int | None = None,
        direction: OrderDirection = OrderDirection.ASC,
        last: int | None = None,
        before: strawberry.ID | None = None,
    ) -> Connection[CrmEventMessage]:
        query_filter = service.event_filter(
            types, parse_id(entity_id, "entityId") if entity_id else None
        )
        arguments = PageArguments(first, after, last, before)
        return await event_page(info, query_filter, arguments, direction)
