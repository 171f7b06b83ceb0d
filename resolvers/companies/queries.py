"""company(id) and companies(...)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.data.pagination import PageQuery, PageRequest
from app.services.companies import queries
from app.services.companies.rows import CompanyRow
from app.services.companies.rules import COMPANY
from app.services.merges.queries import get_following_merges
from resolvers.common.described import PageAfter, PageBefore, PageFirst, PageLast
from resolvers.common.filters import combinators, quantified, register_input
from resolvers.common.inputs import filter_id, parse_id
from resolvers.common.pagination import Connection, PageArguments, paged_rows
from resolvers.common.relations import page_of, row_by_id
from resolvers.common.shared_descriptions import ReadId
from resolvers.companies.inputs import CompanyFilter, CompanyOrder
from resolvers.companies.types import Company
from resolvers.context import Context
from resolvers.permissions import CanRead


def _service_filter(value: CompanyFilter | None) -> queries.CompanyFilter:
    if value is None:
        return queries.CompanyFilter()
    return queries.CompanyFilter(
        statuses=tuple(value.status or ()),
        search=value.search,
        industry_id=filter_id(value.industry_id, "industryId"),
        account_type_id=filter_id(value.account_type_id, "accountTypeId"),
        owner_id=filter_id(value.owner_id, "ownerId"),
        tag=value.tag,
        sizes=tuple(value.size or ()),
        created_from=value.created_from,
        created_to=value.created_to,
        updated_from=value.updated_from,
        updated_to=value.updated_to,
        owned_by_me=value.owned_by_me,
        owners=quantified(value.owners, "owners"),
        contacts=quantified(value.contacts, "contacts"),
        deals=quantified(value.deals, "deals"),
        activities=quantified(value.activities, "activities"),
        contracts=quantified(value.contracts, "contracts"),
        **combinators(value),
    )


register_input(CompanyFilter, _service_filter)


@strawberry.type
class CompanyQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        metadata=row_by_id(COMPANY),
        description="One company by id (every role). An id merged into another company answers "
        "that one (its `id` then differs from the one asked for).",
        graphql_type=Company | None,
    )
    async def company(self, info: Info[Context, None], id: ReadId) -> CompanyRow:
        # An id merged away answers its survivor (app/services/merges).
        return await get_following_merges(info.context.scope, COMPANY, "company", parse_id(id))

    @strawberry.field(
        permission_classes=[CanRead],
        metadata=page_of(COMPANY),
        description="The tenant's companies, a page at a time (every role), by name unless "
        "`orderBy` says otherwise; trashed ones are left out.",
        graphql_type=Connection[Company],
    )
    async def companies(
        self,
        info: Info[Context, None],
        first: PageFirst = None,
        after: PageAfter = None,
        last: PageLast = None,
        before: PageBefore = None,
        filter: Annotated[
            CompanyFilter | None,
            strawberry.argument(description="Only the companies that match; null: all."),
        ] = None,
        order_by: Annotated[
            CompanyOrder | None, strawberry.argument(description="Sort order; null: by name.")
        ] = None,
    ) -> Connection[CompanyRow]:
        order = order_by or CompanyOrder()
        query_filter = _service_filter(filter)
        caller = info.context.scope.actor_id

        def page_query(request: PageRequest) -> PageQuery[CompanyRow]:
            return queries.companies_page(
                queries.CompanyQuery(
                    request, query_filter, order.field, caller=caller, currency=order.currency
                )
            )

        count = partial(queries.count_companies, query_filter=query_filter)
        return await paged_rows(
            info, PageArguments(first, after, last, before), order.direction, page_query, count
        )
