"""pipeline(id), defaultPipeline and pipelines(...)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.data.pagination import PageQuery, PageRequest
from app.services.pipelines import queries
from app.services.pipelines.queries import PipelineOrderField
from app.services.pipelines.rows import PipelineRow
from app.services.pipelines.rules import PIPELINE
from resolvers.common.described import (
    PageAfter,
    PageBefore,
    PageFirst,
    PageLast,
    described_enum,
)
from resolvers.common.enums import OrderDirection
from resolvers.common.inputs import SEARCH_FILTER, parse_id
from resolvers.common.pagination import Connection, PageArguments, paged_rows
from resolvers.common.relations import ROWS, page_of, row_by_id
from resolvers.context import Context
from resolvers.permissions import CanRead
from resolvers.pipelines.types import Pipeline

described_enum(
    PipelineOrderField,
    "What pipelines are sorted by; ties by id, so paging is stable.",
    {
        "NAME": "The name, ignoring case (the default).",
        "CREATED_AT": "When the pipeline was created.",
        "UPDATED_AT": "When the pipeline was last changed.",
    },
)


@strawberry.input(description="Which pipelines a list shows; unset fields do not filter.")
class PipelineFilter:
    search: str | None = strawberry.field(default=None, description=SEARCH_FILTER)


@strawberry.input(description="How a list of pipelines is sorted; unset: by name, A to Z.")
class PipelineOrder:
    field: PipelineOrderField = strawberry.field(
        default=PipelineOrderField.NAME, description="What to sort by; NAME if not sent."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="ASC or DESC; ASC if not sent."
    )


@strawberry.type
class PipelineQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        metadata=row_by_id(PIPELINE),
        description="One pipeline by id, with its stages and summary (every role). An unknown "
        "id or another tenant's is NOT_FOUND.",
        graphql_type=Pipeline | None,
    )
    async def pipeline(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The pipeline's id.")],
    ) -> PipelineRow:
        return await queries.get_pipeline(info.context.scope, parse_id(id))

    @strawberry.field(
        permission_classes=[CanRead],
        metadata=ROWS,
        description="The tenant's default board (every role): where new deals go when no "
        "pipeline is named; null while the tenant has no pipeline.",
        graphql_type=Pipeline | None,
    )
    async def default_pipeline(self, info: Info[Context, None]) -> PipelineRow | None:
        return await queries.default_pipeline(info.context.scope)

    @strawberry.field(
        permission_classes=[CanRead],
        metadata=page_of(PIPELINE),
        description="The tenant's pipelines (every role), a page at a time, by name unless "
        "`orderBy` says otherwise.",
        graphql_type=Connection[Pipeline],
    )
    async def pipelines(
        self,
        info: Info[Context, None],
        first: PageFirst = None,
        after: PageAfter = None,
        last: PageLast = None,
        before: PageBefore = None,
        filter: Annotated[
            PipelineFilter | None, strawberry.argument(description="Which pipelines; unset: all.")
        ] = None,
        order_by: Annotated[
            PipelineOrder | None,
            strawberry.argument(description="The order; unset: by name, A to Z."),
        ] = None,
    ) -> Connection[PipelineRow]:
        order = order_by or PipelineOrder()
        search = filter.search if filter else None

        def page_query(request: PageRequest) -> PageQuery[PipelineRow]:
            return queries.pipelines_page(request, search, order.field)

        count = partial(queries.count_pipelines, search=search)
        return await paged_rows(
            info, PageArguments(first, after, last, before), order.direction, page_query, count
        )
