"""contract(id), contracts(...), createContract, updateContract, deleteContract."""

from __future__ import annotations

from functools import partial

import strawberry
from strawberry.types import Info

from app.data.pagination import PageQuery, PageRequest
from app.services.contracts import queries, service
from app.services.contracts.rows import ContractRow
from resolvers.common.inputs import filter_id, parse_id, sent_fields
from resolvers.common.pagination import Connection, paged_rows
from resolvers.context import Context
from resolvers.contracts.types import (
    Contract,
    ContractFilter,
    ContractOrder,
    CreateContractInput,
    UpdateContractInput,
)
from resolvers.permissions import CanRead, CanWrite


def _service_filter(f: ContractFilter | None) -> queries.ContractFilter:
    if f is None:
        return queries.ContractFilter()
    return queries.ContractFilter(
        company_id=filter_id(f.company_id, "companyId"),
        statuses=tuple(f.status or ()),
        search=f.search,
        ends_from=f.ends_from,
        ends_to=f.ends_to,
    )


@strawberry.type
class ContractQueries:
    @strawberry.field(permission_classes=[CanRead], graphql_type=Contract | None)
    async def contract(self, info: Info[Context, None], id: strawberry.ID) -> ContractRow:
        return await queries.get_contract(info.context.scope, parse_id(id))

    @strawberry.field(
        permission_classes=[CanRead],
        description="Contracts, a page at a time.",
        graphql_type=Connection[Contract],
    )
    async def contracts(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        filter: ContractFilter | None = None,
        order_by: ContractOrder | None = None,
    ) -> Connection[ContractRow]:
        order = order_by or ContractOrder()
        query_filter = _service_filter(filter)

        def page_query(request: PageRequest) -> PageQuery[ContractRow]:
            return queries.contracts_page(queries.ContractQuery(request, query_filter, order.field))

        count = partial(queries.count_contracts, query_filter=query_filter)
        return await paged_rows(info, first, after, order.direction, page_query, count)


@strawberry.type
class ContractMutations:
    @strawberry.mutation(permission_classes=[CanWrite], graphql_type=Contract)
    async def create_contract(
        self, info: Info[Context, None], input: CreateContractInput
    ) -> ContractRow:
        return await service.create_contract(info.context.scope, sent_fields(input))

    @strawberry.mutation(permission_classes=[CanWrite], graphql_type=Contract)
    async def update_contract(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        input: UpdateContractInput,
        expected_version: int | None = None,
    ) -> ContractRow:
        return await service.update_contract(
            info.context.scope, parse_id(id), sent_fields(input), expected_version
        )

    @strawberry.mutation(permission_classes=[CanWrite])
    async def delete_contract(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        deleted = await service.delete_contract(info.context.scope, parse_id(id))
        return strawberry.ID(str(deleted))
