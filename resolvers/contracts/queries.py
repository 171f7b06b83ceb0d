"""contract(id), contracts(...)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.data.pagination import PageQuery, PageRequest
from app.services.contracts import queries
from app.services.contracts.rows import ContractRow
from resolvers.common.described import PageAfter, PageBefore, PageFirst, PageLast
from resolvers.common.filters import combinators, nested, register_input
from resolvers.common.inputs import filter_id, parse_id
from resolvers.common.pagination import Connection, PageArguments, paged_rows
from resolvers.common.shared_descriptions import ReadId
from resolvers.context import Context
from resolvers.contracts.inputs import (
    ContractFilter,
    ContractOrder,
)
from resolvers.contracts.types import Contract
from resolvers.permissions import CanRead


def _service_filter(f: ContractFilter | None) -> queries.ContractFilter:
    if f is None:
        return queries.ContractFilter()
    return queries.ContractFilter(
        company_id=filter_id(f.company_id, "companyId"),
        statuses=tuple(f.status or ()),
        search=f.search,
        ends_from=f.ends_from,
        ends_to=f.ends_to,
        company=nested(f.company, "company"),
        **combinators(f),
    )


register_input(ContractFilter, _service_filter)


@strawberry.type
class ContractQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="One contract by id (every role); one of a trashed company is NOT_FOUND.",
        graphql_type=Contract | None,
    )
    async def contract(self, info: Info[Context, None], id: ReadId) -> ContractRow:
        return await queries.get_contract(info.context.scope, parse_id(id))

    @strawberry.field(
        permission_classes=[CanRead],
        description="The tenant's contracts, a page at a time (every role), by end date "
        "(open-ended last) unless `orderBy` says otherwise.",
        graphql_type=Connection[Contract],
    )
    async def contracts(
        self,
        info: Info[Context, None],
        first: PageFirst = None,
        after: PageAfter = None,
        last: PageLast = None,
        before: PageBefore = None,
        filter: Annotated[
            ContractFilter | None,
            strawberry.argument(description="Only the contracts that match; null: all."),
        ] = None,
        order_by: Annotated[
            ContractOrder | None, strawberry.argument(description="Sort order; null: by end date.")
        ] = None,
    ) -> Connection[ContractRow]:
        order = order_by or ContractOrder()
        query_filter = _service_filter(filter)
        caller = info.context.scope.actor_id

        def page_query(request: PageRequest) -> PageQuery[ContractRow]:
            return queries.contracts_page(
                queries.ContractQuery(request, query_filter, order.field, caller=caller)
            )

        count = partial(queries.count_contracts, query_filter=query_filter)
        return await paged_rows(
            info, PageArguments(first, after, last, before), order.direction, page_query, count
        )
