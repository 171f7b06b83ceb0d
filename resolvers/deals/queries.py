"""deal(id) and deals(...)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.data.pagination import PageQuery, PageRequest
from app.services.deals import queries
from app.services.deals.queries import get_deal
from app.services.deals.rows import DealRow
from app.services.deals.rules import DEAL
from resolvers.common.described import PageAfter, PageBefore, PageFirst, PageLast
from resolvers.common.filters import combinators, nested, quantified, register_input
from resolvers.common.inputs import filter_id, parse_id
from resolvers.common.pagination import Connection, PageArguments, paged_rows
from resolvers.common.relations import page_of, row_by_id
from resolvers.context import Context
from resolvers.deals.inputs import DealFilter, DealOrder
from resolvers.deals.types import Deal
from resolvers.permissions import CanRead


def _service_filter(f: DealFilter | None) -> queries.DealFilter:
    if f is None:
        return queries.DealFilter()
    return queries.DealFilter(
        search=f.search,
        pipeline_id=filter_id(f.pipeline_id, "pipelineId"),
        stage_id=filter_id(f.stage_id, "stageId"),
        statuses=tuple(f.status or ()),
        company_id=filter_id(f.company_id, "companyId"),
        contact_id=filter_id(f.contact_id, "contactId"),
        owner_id=filter_id(f.owner_id, "ownerId"),
        value_min=f.value_min,
        value_max=f.value_max,
        close_from=f.expected_close_from,
        close_to=f.expected_close_to,
        closed_after=f.closed_after,
        closed_before=f.closed_before,
        owned_by_me=f.owned_by_me,
        owners=quantified(f.owners, "owners"),
        company=nested(f.company, "company"),
        contact=nested(f.contact, "contact"),
        activities=quantified(f.activities, "activities"),
        **combinators(f),
    )


register_input(DealFilter, _service_filter)


@strawberry.type
class DealQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        metadata=row_by_id(DEAL),
        description="One deal by id (every role). An unknown id, another tenant's or one in the "
        "trash is NOT_FOUND.",
        graphql_type=Deal | None,
    )
    async def deal(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The deal's id.")],
    ) -> DealRow:
        return await get_deal(info.context.scope, parse_id(id))

    @strawberry.field(
        permission_classes=[CanRead],
        metadata=page_of(DEAL),
        description="The tenant's deals (every role), a page at a time, newest first unless "
        "`orderBy` says otherwise; deals in the trash are left out.",
        graphql_type=Connection[Deal],
    )
    async def deals(
        self,
        info: Info[Context, None],
        first: PageFirst = None,
        after: PageAfter = None,
        last: PageLast = None,
        before: PageBefore = None,
        filter: Annotated[
            DealFilter | None, strawberry.argument(description="Which deals; unset: all.")
        ] = None,
        order_by: Annotated[
            DealOrder | None,
            strawberry.argument(description="The order; unset: newest first (CREATED_AT DESC)."),
        ] = None,
    ) -> Connection[DealRow]:
        order = order_by or DealOrder()
        query_filter = _service_filter(filter)
        caller = info.context.scope.actor_id

        def page_query(request: PageRequest) -> PageQuery[DealRow]:
            return queries.deals_page(
                queries.DealQuery(request, query_filter, order.field, caller=caller)
            )

        count = partial(queries.count_deals, query_filter=query_filter)
        return await paged_rows(
            info, PageArguments(first, after, last, before), order.direction, page_query, count
        )
