"""pipeline(id), defaultPipeline and pipelines(...)."""

from __future__ import annotations

from functools import partial

import strawberry
from strawberry.types import Info

from app.data.pagination import PageQuery, PageRequest
from app.services.pipelines import queries
from app.services.pipelines.queries import PipelineOrderField
from app.services.pipelines.rows import PipelineRow
from app.services.pipelines.rules import PIPELINE
from resolvers.common.enums import OrderDirection
from resolvers.common.inputs import SEARCH_FILTER, parse_id
from resolvers.common.pagination import Connection, PageArguments, paged_rows
from resolvers.common.relations import ROWS, page_of, row_by_id
from resolvers.context import Context
from resolvers.permissions import CanRead
from resolvers.pipelines.types import Pipeline

strawberry.enum(PipelineOrderField, description="What pipelines are sorted by.")


@strawberry.input
class PipelineFilter:
    search: str | None = strawberry.field(default=None, description=SEARCH_FILTER)


@strawberry.input
class PipelineOrder:
    field: PipelineOrderField = PipelineOrderField.NAME
    direction: OrderDirection = OrderDirection.ASC


@strawberry.type
class PipelineQueries:
    @strawberry.field(
        permission_classes=[CanRead], metadata=row_by_id(PIPELINE), graphql_type=Pipeline | None
    )
    async def pipeline(self, info: Info[Context, None], id: strawberry.ID) -> PipelineRow:
        return await queries.get_pipeline(info.context.scope, parse_id(id))

    @strawberry.field(
        permission_classes=[CanRead],
        metadata=ROWS,
        description="The tenant's default board.",
        graphql_type=Pipeline | None,
    )
    async def default_pipeline(self, info: Info[Context, None]) -> PipelineRow | None:
        return await queries.default_pipeline(info.context.scope)

    @strawberry.field(
        permission_classes=[CanRead],
        metadata=page_of(PIPELINE),
        description="Pipelines, a page at a time.",
        graphql_type=Connection[Pipeline],
    )
    async def pipelines(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: PipelineFilter | None = None,
        order_by: PipelineOrder | None = None,
    ) -> Connection[PipelineRow]:
        order = order_by or PipelineOrder()
        search = filter.search if filter else None

        def page_query(request: PageRequest) -> PageQuery[PipelineRow]:
            return queries.pipelines_page(request, search, order.field)

        count = partial(queries.count_pipelines, search=search)
        return await paged_rows(
            info, PageArguments(first, after, last, before), order.direction, page_query, count
        )
