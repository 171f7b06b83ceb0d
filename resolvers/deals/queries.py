"""deal(id) and deals(...)."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.types import Info

from app.services import deal_queries as queries
from app.services.deals import get_deal
from resolvers.common.enums import OrderDirection
from resolvers.common.inputs import parse_id
from resolvers.common.pagination import Connection, connection_from_page, page_request
from resolvers.context import context_of
from resolvers.deals.inputs import DealFilter, DealOrder
from resolvers.deals.types import Deal
from resolvers.permissions import CanRead


def _optional_id(value: strawberry.ID | None, field: str) -> Any:
    return parse_id(value, f"filter.{field}") if value else None


def _service_filter(f: DealFilter | None) -> queries.DealFilter:
    if f is None:
        return queries.DealFilter()
    return queries.DealFilter(
        search=f.search,
        pipeline_id=_optional_id(f.pipeline_id, "pipelineId"),
        stage_id=_optional_id(f.stage_id, "stageId"),
        statuses=tuple(f.status or ()),
        company_id=_optional_id(f.company_id, "companyId"),
        contact_id=_optional_id(f.contact_id, "contactId"),
        owner_id=_optional_id(f.owner_id, "ownerId"),
        value_min=f.value_min,
        value_max=f.value_max,
        close_from=f.expected_close_from,
        close_to=f.expected_close_to,
    )


@strawberry.type
class DealQueries:
    @strawberry.field(permission_classes=[CanRead])
    async def deal(self, info: Info[Any, Any], id: strawberry.ID) -> Deal | None:
        return cast(Deal, await get_deal(context_of(info).scope, parse_id(id)))

    @strawberry.field(permission_classes=[CanRead], description="Deals, a page at a time.")
    async def deals(
        self,
        info: Info[Any, Any],
        first: int | None = None,
        after: str | None = None,
        filter: DealFilter | None = None,
        order_by: DealOrder | None = None,
    ) -> Connection[Deal]:
        context = context_of(info)
        order = order_by or DealOrder()
        descending = order.direction is OrderDirection.DESC
        request = page_request(context.settings, first, after, descending)
        query_filter = _service_filter(filter)
        page = await queries.list_deals(
            context.scope, queries.DealQuery(request, query_filter, order.field)
        )

        async def count() -> int:
            return await queries.count_deals(context.scope, query_filter)

        return connection_from_page(page, count, after=after)
