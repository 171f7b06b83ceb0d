"""pipeline(id) and pipelines."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.types import Info

from app.services import pipelines as service
from resolvers.common.inputs import parse_id
from resolvers.context import context_of
from resolvers.permissions import CanRead
from resolvers.pipelines.types import Pipeline


@strawberry.type
class PipelineQueries:
    @strawberry.field(permission_classes=[CanRead])
    async def pipeline(self, info: Info[Any, Any], id: strawberry.ID) -> Pipeline | None:
        return cast(Pipeline, await service.get_pipeline(context_of(info).scope, parse_id(id)))

    @strawberry.field(permission_classes=[CanRead], description="All pipelines, default first.")
    async def pipelines(self, info: Info[Any, Any]) -> list[Pipeline]:
        return cast(list[Pipeline], await service.list_pipelines(context_of(info).scope))
