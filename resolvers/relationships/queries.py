"""companyRelationship(id) and companyRelationships(...)."""

from __future__ import annotations

import enum

import strawberry
from strawberry.types import Info

from app.data.pagination import Page, PageRequest
from app.data.tenancy import TenantScope
from app.services.relationships import queries
from resolvers.common.enums import OrderDirection
from resolvers.common.inputs import filter_id, parse_id
from resolvers.common.pagination import Connection, PageArguments, paged
from resolvers.context import Context
from resolvers.permissions import CanRead
from resolvers.relationships.types import CompanyRelationship, RelationshipView


@strawberry.input
class CompanyRelationshipFilter:
    company_id: strawberry.ID | None = strawberry.field(
        default=None, description="Either side; the list is then seen from this company."
    )
    type_id: strawberry.ID | None = None


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
        company = filter_id(filter.company_id, "companyId") if filter else None
        kind = filter_id(filter.type_id, "typeId") if filter else None
        query_filter = queries.RelationshipFilter(company, kind)

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
