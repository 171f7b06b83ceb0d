"""activity(id) and activities(...), including the aggregated company feed."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.types import Info

from app.services import activities as service
from resolvers.activities.inputs import ActivityFilter, ActivityOrder
from resolvers.activities.types import Activity
from resolvers.common.enums import OrderDirection
from resolvers.common.inputs import parse_id
from resolvers.common.pagination import Connection, connection_from_page, page_request
from resolvers.context import context_of
from resolvers.permissions import CanRead


def _optional_id(value: strawberry.ID | None, field: str) -> Any:
    return parse_id(value, f"filter.{field}") if value else None


def _service_filter(f: ActivityFilter | None) -> service.ActivityFilter:
    if f is None:
        return service.ActivityFilter()
    return service.ActivityFilter(
        types=tuple(f.type or ()),
        contact_id=_optional_id(f.contact_id, "contactId"),
        company_id=_optional_id(f.company_id, "companyId"),
        include_contacts=f.include_contacts,
        deal_id=_optional_id(f.deal_id, "dealId"),
        assignee_id=_optional_id(f.assignee_id, "assigneeId"),
        due_from=f.due_from,
        due_to=f.due_to,
        overdue=f.overdue,
        completed=f.completed,
    )


@strawberry.type
class ActivityQueries:
    @strawberry.field(permission_classes=[CanRead])
    async def activity(self, info: Info[Any, Any], id: strawberry.ID) -> Activity | None:
        return cast(Activity, await service.get_activity(context_of(info).scope, parse_id(id)))

    @strawberry.field(permission_classes=[CanRead], description="Activities, a page at a time.")
    async def activities(
        self,
        info: Info[Any, Any],
        first: int | None = None,
        after: str | None = None,
        filter: ActivityFilter | None = None,
        order_by: ActivityOrder | None = None,
    ) -> Connection[Activity]:
        context = context_of(info)
        order = order_by or ActivityOrder()
        descending = order.direction is OrderDirection.DESC
        request = page_request(context.settings, first, after, descending)
        query_filter = _service_filter(filter)
        page = await service.list_activities(
            context.scope, service.ActivityQuery(request, query_filter, order.field)
        )

        async def count() -> int:
            return await service.count_activities(context.scope, query_filter)

        return connection_from_page(page, count, after=after)
