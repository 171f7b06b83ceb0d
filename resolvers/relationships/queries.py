"""companyRelationship(id) and companyRelationships(...)."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from app.data.pagination import Page, PageRequest
from app.data.tenancy import TenantScope
from app.services.relationships import queries
from resolvers.common.described import PageAfter, PageBefore, PageFirst, PageLast
from resolvers.common.enums import OrderDirection
from resolvers.common.filters import AND, NOT, OR, TO_ONE, combinators, nested, register_input
from resolvers.common.inputs import filter_id, parse_id
from resolvers.common.pagination import Connection, PageArguments, paged
from resolvers.common.shared_descriptions import ReadId
from resolvers.context import Context
from resolvers.permissions import CanRead
from resolvers.relationships.types import CompanyRelationship, RelationshipView

if TYPE_CHECKING:
    from resolvers.companies.inputs import CompanyFilter


@strawberry.input(
    description="Which relationships a list holds: every field that is set must match (null or "
    "not sent: no condition). Malformed ids: BAD_USER_INPUT."
)
class CompanyRelationshipFilter:
    company_id: strawberry.ID | None = strawberry.field(
        default=None, description="Either side; the list is then seen from this company."
    )
    type_id: strawberry.ID | None = strawberry.field(
        default=None, description="Of this relationship type (`relationshipTypes`)."
    )
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
    CREATED_AT = strawberry.enum_value("CREATED_AT", description="When the relationship was added.")


@strawberry.input(description="How relationships are sorted; ties by id, so paging is stable.")
class CompanyRelationshipOrder:
    field: RelationshipOrderField = strawberry.field(
        default=RelationshipOrderField.CREATED_AT, description="What to sort by (CREATED_AT)."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="ASC (oldest first) when not sent."
    )


@strawberry.type
class RelationshipQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="One relationship by id (every role), seen from its source company "
        "(direction OUTGOING). One of a trashed company is NOT_FOUND.",
        graphql_type=CompanyRelationship | None,
    )
    async def company_relationship(self, info: Info[Context, None], id: ReadId) -> RelationshipView:
        row = await queries.get_relationship(info.context.scope, parse_id(id))
        return RelationshipView(row)

    @strawberry.field(
        permission_classes=[CanRead],
        description="The tenant's company relationships, a page at a time (every role), "
        "oldest first by default; each seen from its source, or from filter.companyId.",
        graphql_type=Connection[CompanyRelationship],
    )
    async def company_relationships(
        self,
        info: Info[Context, None],
        first: PageFirst = None,
        after: PageAfter = None,
        last: PageLast = None,
        before: PageBefore = None,
        filter: Annotated[
            CompanyRelationshipFilter | None,
            strawberry.argument(description="Only the relationships that match; null: all."),
        ] = None,
        order_by: Annotated[
            CompanyRelationshipOrder | None,
            strawberry.argument(description="Sort order; null: oldest first."),
        ] = None,
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
