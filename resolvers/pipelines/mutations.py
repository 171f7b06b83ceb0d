"""Pipelines and stages are configuration: admins write them."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.types import Info

from app.services.pipelines import service
from app.services.pipelines import stages as pipeline_stages
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.context import Context
from resolvers.permissions import IsAdmin
from resolvers.pipelines import inputs
from resolvers.pipelines.types import Pipeline, Stage

ADMIN: list[Any] = [IsAdmin]


@strawberry.type
class PipelineMutations:
    @strawberry.mutation(permission_classes=ADMIN, description="A pipeline with its stages.")
    async def create_pipeline(
        self, info: Info[Context, None], input: inputs.CreatePipelineInput
    ) -> Pipeline:
        row = await service.create_pipeline(info.context.scope, sent_fields(input))
        return cast(Pipeline, row)

    @strawberry.mutation(permission_classes=ADMIN)
    async def update_pipeline(
        self, info: Info[Context, None], id: strawberry.ID, input: inputs.UpdatePipelineInput
    ) -> Pipeline:
        scope = info.context.scope
        return cast(
            Pipeline, await service.update_pipeline(scope, parse_id(id), sent_fields(input))
        )

    @strawberry.mutation(permission_classes=ADMIN, description="Deletes its stages and deals.")
    async def delete_pipeline(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        deleted = await service.delete_pipeline(info.context.scope, parse_id(id))
        return strawberry.ID(str(deleted))

    @strawberry.mutation(
        permission_classes=ADMIN, description="Insert at position (default: last)."
    )
    async def add_pipeline_stage(
        self,
        info: Info[Context, None],
        pipeline_id: strawberry.ID,
        input: inputs.StageInput,
        position: int | None = None,
    ) -> Stage:
        scope = info.context.scope
        row = await pipeline_stages.add_stage(
            scope, parse_id(pipeline_id, "pipelineId"), sent_fields(input), position
        )
        return cast(Stage, row)

    @strawberry.mutation(permission_classes=ADMIN)
    async def update_pipeline_stage(
        self, info: Info[Context, None], id: strawberry.ID, input: inputs.UpdateStageInput
    ) -> Stage:
        scope = info.context.scope
        return cast(
            Stage, await pipeline_stages.update_stage(scope, parse_id(id), sent_fields(input))
        )

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Remove a stage. Refused while deals sit in it, unless moveDealsTo names "
        "another stage of the pipeline to move them to.",
    )
    async def remove_pipeline_stage(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        move_deals_to: strawberry.ID | None = None,
    ) -> strawberry.ID:
        target = parse_id(move_deals_to, "moveDealsTo") if move_deals_to else None
        removed = await pipeline_stages.remove_stage(info.context.scope, parse_id(id), target)
        return strawberry.ID(str(removed))

    @strawberry.mutation(permission_classes=ADMIN, description="stageIds in the new order.")
    async def reorder_pipeline_stages(
        self, info: Info[Context, None], pipeline_id: strawberry.ID, stage_ids: list[strawberry.ID]
    ) -> list[Stage]:
        ids = [parse_id(stage_id, "stageIds") for stage_id in stage_ids]
        scope = info.context.scope
        rows = await pipeline_stages.reorder_stages(scope, parse_id(pipeline_id, "pipelineId"), ids)
        return cast(list[Stage], rows)
