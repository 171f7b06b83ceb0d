"""company(id) and companies(...)."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.types import Info

from app.services import companies as service
from resolvers.common.enums import OrderDirection
from resolvers.common.inputs import parse_id
from resolvers.common.pagination import Connection, connection_from_page, page_request
from resolvers.companies.inputs import CompanyFilter, CompanyOrder
from resolvers.companies.types import Company
from resolvers.context import context_of
from resolvers.permissions import CanRead


def _service_filter(value: CompanyFilter | None) -> service.CompanyFilter:
    if value is None:
        return service.CompanyFilter()
    return service.CompanyFilter(
        statuses=tuple(value.status or ()),
        search=value.search,
        industry_id=_optional_id(value.industry_id, "industryId"),
        account_type_id=_optional_id(value.account_type_id, "accountTypeId"),
        owner_id=_optional_id(value.owner_id, "ownerId"),
        tag=value.tag,
        sizes=tuple(value.size or ()),
        created_from=value.created_from,
        created_to=value.created_to,
        updated_from=value.updated_from,
        updated_to=value.updated_to,
    )


def _optional_id(value: strawberry.ID | None, field: str) -> Any:
    return parse_id(value, f"filter.{field}") if value else None


@strawberry.type
class CompanyQueries:
    @strawberry.field(permission_classes=[CanRead], description="One company by id.")
    async def company(self, info: Info[Any, Any], id: strawberry.ID) -> Company | None:
        row = await service.get_company(context_of(info).scope, parse_id(id))
        return cast(Company, row)

    @strawberry.field(permission_classes=[CanRead], description="Companies, a page at a time.")
    async def companies(
        self,
        info: Info[Any, Any],
        first: int | None = None,
        after: str | None = None,
        filter: CompanyFilter | None = None,
        order_by: CompanyOrder | None = None,
    ) -> Connection[Company]:
        context = context_of(info)
        order = order_by or CompanyOrder()
        descending = order.direction is OrderDirection.DESC
        request = page_request(context.settings, first, after, descending)
        query_filter = _service_filter(filter)
        page = await service.list_companies(
            context.scope, service.CompanyQuery(request, query_filter, order.field)
        )

        async def count() -> int:
            return await service.count_companies(context.scope, query_filter)

        return connection_from_page(page, count, after=after)
