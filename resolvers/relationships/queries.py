"""companyRelationship(id) and companyRelationships(...)."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from app.data.pagination import Page, PageRequest
from app.data.tenancy import TenantScope
from app.services.relationships import queries
from resolvers.common.enums import OrderDirection
from resolvers.common.filters import AND, NOT, OR, TO_ONE, combinators, nested, register_input
from resolvers.common.inputs import filter_id, parse_id
from resolvers.common.pagination import Connection, PageArguments, paged
from resolvers.context import Context
from resolvers.permissions import CanRead
from resolvers.relationships.types import CompanyRelationship, RelationshipView

if TYPE_CHECKING:
    from resolvers.companies.inputs import CompanyFilter


@strawberry.input
class CompanyRelationshipFilter:
    company_id: strawberry.ID | None = strawberry.field(
        default=None, description="Either side; the list is then seen from this company."
    )
    type_id: strawberry.ID | None = None
    from_company: Annotated[CompanyFilter, strawberry.lazy("resolvers.companies.inputs")] | None = (
        strawberry.field(default=None, description=TO_ONE)
    )
    to_company: Annotated[CompanyFilter, strawberry.lazy("resolvers.companies.inputs")] | None = (
        strawberry.field(default=None, description=TO_ONE)
    )
    and_: list[CompanyRelationshipFilter] | None = strawberry.field(
        default=None, name="and", description=AND
    )
    or_: list[CompanyRelationshipFilter] | None = strawberry.field(
        default=None, name="or", description=OR
    )
    not_: CompanyRelationshipFilter | None = strawberry.field(
        default=None, name="not", description=NOT
    )


def _service_filter(value: CompanyRelationshipFilter | None) -> queries.RelationshipFilter:
    if value is None:
        return queries.RelationshipFilter()
    return queries.RelationshipFilter(
        company_id=filter_id(value.company_id, "companyId"),
        type_id=filter_id(value.type_id, "typeId"),
        from_company=nested(value.from_company, "fromCompany"),
        to_company=nested(value.to_company, "toCompany"),
        **combinators(value),
    )


register_input(CompanyRelationshipFilter, _service_filter)


@strawberry.enum(description="What relationships are sorted by.")
class RelationshipOrderField(enum.Enum):
    CREATED_AT = "CREATED_AT"


@strawberry.input
class CompanyRelationshipOrder:
    field: RelationshipOrderField = RelationshipOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.ASC


@strawberry.type
class RelationshipQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="Seen from its source company.",
        graphql_type=CompanyRelationship | None,
    )
    async def company_relationship(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> RelationshipView:
        row = await queries.get_relationship(info.context.scope, parse_id(id))
        return RelationshipView(row)

    @strawberry.field(
        permission_classes=[CanRead],
        description="Oldest first by default.",
        graphql_type=Connection[CompanyRelationship],
    )
    async def company_relationships(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: CompanyRelationshipFilter | None = None,
        order_by: CompanyRelationshipOrder | None = None,
    ) -> Connection[RelationshipView]:
        query_filter = _service_filter(filter)
        company = query_filter.company_id

        async def list_page(scope: TenantScope, request: PageRequest) -> Page[RelationshipView]:
            page = await queries.list_relationships(scope, query_filter, request)
            rows = [RelationshipView(row, company) for row in page.rows]
            return Page(rows, page.cursors, page.has_next_page, page.has_previous_page)

        async def count(scope: TenantScope) -> int:
            return await queries.count_relationships(scope, query_filter)

        direction = (order_by or CompanyRelationshipOrder()).direction
        return await paged(
            info, PageArguments(first, after, last, before), direction, list_page, count
        )
