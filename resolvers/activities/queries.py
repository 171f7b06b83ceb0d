"""activity(id) and activities(...), including the aggregated company feed."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.data.pagination import PageQuery, PageRequest
from app.services.activities import queries
from app.services.activities.rows import ActivityRow
from resolvers.activities.inputs import ActivityFilter, ActivityOrder
from resolvers.activities.types import Activity
from resolvers.common.described import PageAfter, PageBefore, PageFirst, PageLast
from resolvers.common.filters import combinators, nested, register_input
from resolvers.common.inputs import filter_id, parse_id
from resolvers.common.pagination import Connection, PageArguments, paged_rows
from resolvers.common.shared_descriptions import ReadId
from resolvers.context import Context
from resolvers.permissions import CanRead


def _service_filter(f: ActivityFilter | None) -> queries.ActivityFilter:
    if f is None:
        return queries.ActivityFilter()
    return queries.ActivityFilter(
        types=tuple(f.type or ()),
        contact_id=filter_id(f.contact_id, "contactId"),
        company_id=filter_id(f.company_id, "companyId"),
        include_contacts=f.include_contacts,
        deal_id=filter_id(f.deal_id, "dealId"),
        assignee_id=filter_id(f.assignee_id, "assigneeId"),
        due_from=f.due_from,
        due_to=f.due_to,
        overdue=f.overdue,
        completed=f.completed,
        search=f.search,
        assigned_to_me=f.assigned_to_me,
        deal=nested(f.deal, "deal"),
        company=nested(f.company, "company"),
        contact=nested(f.contact, "contact"),
        **combinators(f),
    )


register_input(ActivityFilter, _service_filter)


@strawberry.type
class ActivityQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="One activity by id (every role).",
        graphql_type=Activity | None,
    )
    async def activity(self, info: Info[Context, None], id: ReadId) -> ActivityRow:
        return await queries.get_activity(info.context.scope, parse_id(id))

    @strawberry.field(
        permission_classes=[CanRead],
        description="The tenant's activities, a page at a time (every role), newest first "
        "unless `orderBy` says otherwise. A company's feed: filter {companyId, "
        "includeContacts: true}.",
        graphql_type=Connection[Activity],
    )
    async def activities(
        self,
        info: Info[Context, None],
        first: PageFirst = None,
        after: PageAfter = None,
        last: PageLast = None,
        before: PageBefore = None,
        filter: Annotated[
            ActivityFilter | None,
            strawberry.argument(description="Only the activities that match; null: all."),
        ] = None,
        order_by: Annotated[
            ActivityOrder | None, strawberry.argument(description="Sort order; null: newest first.")
        ] = None,
    ) -> Connection[ActivityRow]:
        order = order_by or ActivityOrder()
        query_filter = _service_filter(filter)
        caller = info.context.scope.actor_id

        def page_query(request: PageRequest) -> PageQuery[ActivityRow]:
            return queries.activities_page(
                queries.ActivityQuery(request, query_filter, order.field, caller=caller)
            )

        count = partial(queries.count_activities, query_filter=query_filter)
        return await paged_rows(
            info, PageArguments(first, after, last, before), order.direction, page_query, count
        )
