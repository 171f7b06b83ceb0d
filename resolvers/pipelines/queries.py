"""pipeline(id), defaultPipeline and pipelines(...)."""

from __future__ import annotations

from functools import partial
from typing import Any, cast

import strawberry
from strawberry.types import Info

from app.data.pagination import PageQuery, PageRequest
from app.services.pipelines import queries
from app.services.pipelines.queries import PipelineOrderField
from app.services.pipelines.rules import PIPELINE
from resolvers.common.enums import OrderDirection
from resolvers.common.inputs import parse_id
from resolvers.common.pagination import Connection, paged_rows
from resolvers.common.relations import ROWS, page_of, row_by_id
from resolvers.context import context_of
from resolvers.permissions import CanRead
from resolvers.pipelines.types import Pipeline

strawberry.enum(PipelineOrderField, description="What pipelines are sorted by.")


@strawberry.input
class PipelineFilter:
    search: str | None = strawberry.field(default=None, description="Substring of the name.")


@strawberry.input
class PipelineOrder:
    field: PipelineOrderField = PipelineOrderField.NAME
    direction: OrderDirection = OrderDirection.ASC


@strawberry.type
class PipelineQueries:
    @strawberry.field(permission_classes=[CanRead], metadata=row_by_id(PIPELINE))
    async def pipeline(self, info: Info[Any, Any], id: strawberry.ID) -> Pipeline | None:
        return cast(Pipeline, await queries.get_pipeline(context_of(info).scope, parse_id(id)))

    @strawberry.field(
        permission_classes=[CanRead], metadata=ROWS, description="The tenant's default board."
    )
    async def default_pipeline(self, info: Info[Any, Any]) -> Pipeline | None:
        return cast(Pipeline | None, await queries.default_pipeline(context_of(info).scope))

    @strawberry.field(
        permission_classes=[CanRead],
        metadata=page_of(PIPELINE),
        description="Pipelines, a page at a time.",
    )
    async def pipelines(
        self,
        info: Info[Any, Any],
        first: int | None = None,
        after: str | None = None,
        filter: PipelineFilter | None = None,
        order_by: PipelineOrder | None = None,
    ) -> Connection[Pipeline]:
        order = order_by or PipelineOrder()
        search = filter.search if filter else None

        def page_query(request: PageRequest) -> PageQuery:
            return queries.pipelines_page(request, search, order.field)

        count = partial(queries.count_pipelines, search=search)
        return await paged_rows(info, first, after, order.direction, page_query, count)
