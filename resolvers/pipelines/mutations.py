"""Pipelines and stages are configuration: admins write them."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from app.services.pipelines import service
from app.services.pipelines import stages as pipeline_stages
from app.services.pipelines.rows import PipelineRow
from app.services.pipelines.rules import PIPELINE
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.common.written import read_back
from resolvers.context import Context
from resolvers.permissions import IsAdmin
from resolvers.pipelines import inputs
from resolvers.pipelines.payloads import (
    StagePayload,
    StageRemovalPayload,
    StageRemoved,
    StageWritten,
)
from resolvers.pipelines.types import Pipeline

ADMIN: list[type[BasePermission]] = [IsAdmin]


@strawberry.type
class PipelineMutations:
    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Create a pipeline with its stages (admin). A name the tenant has already "
        "is a CONFLICT; a stage name used twice is BAD_USER_INPUT. Event crm.pipeline.created.",
        graphql_type=Pipeline,
    )
    async def create_pipeline(
        self,
        info: Info[Context, None],
        input: Annotated[
            inputs.CreatePipelineInput,
            strawberry.argument(description="The new pipeline and its stages."),
        ],
    ) -> PipelineRow:
        return await service.create_pipeline(info.context.scope, sent_fields(input))

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Rename, describe or make the default a pipeline (admin; its stages have "
        "mutations of their own). Event crm.pipeline.updated.",
        graphql_type=Pipeline,
    )
    async def update_pipeline(
        self,
        info: Info[Context, None],
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The pipeline's id; unknown: NOT_FOUND."),
        ],
        input: Annotated[
            inputs.UpdatePipelineInput,
            strawberry.argument(description="The fields to change; those not sent stay."),
        ],
    ) -> PipelineRow:
        scope = info.context.scope
        return await service.update_pipeline(scope, parse_id(id), sent_fields(input))

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Delete a pipeline for good (admin), with its stages and deals (also those "
        "in the trash; not into the trash: each deal as purgeDeal would, its activities that "
        "nothing else links included). If it was the default, the oldest remaining pipeline "
        "becomes the default. Answers its id.",
    )
    async def delete_pipeline(
        self,
        info: Info[Context, None],
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The pipeline's id; unknown: NOT_FOUND."),
        ],
    ) -> strawberry.ID:
        deleted = await service.delete_pipeline(info.context.scope, parse_id(id))
        return strawberry.ID(str(deleted))

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Insert at position (default: last).",
        graphql_type=StagePayload,
    )
    async def add_pipeline_stage(
        self,
        info: Info[Context, None],
        pipeline_id: strawberry.ID,
        input: inputs.StageInput,
        position: int | None = None,
    ) -> StageWritten:
        scope = info.context.scope
        added = await pipeline_stages.add_stage(
            scope, parse_id(pipeline_id, "pipelineId"), sent_fields(input), position
        )
        return StageWritten.of(added)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Rename a stage, change its probability or (while it is empty) its kind.",
        graphql_type=StagePayload,
    )
    async def update_pipeline_stage(
        self, info: Info[Context, None], id: strawberry.ID, input: inputs.UpdateStageInput
    ) -> StageWritten:
        scope = info.context.scope
        return StageWritten.of(
            await pipeline_stages.update_stage(scope, parse_id(id), sent_fields(input))
        )

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Remove a stage. Refused while deals sit in it, unless moveDealsTo names "
        "another stage of the pipeline to move them to.",
        graphql_type=StageRemovalPayload,
    )
    async def remove_pipeline_stage(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        move_deals_to: strawberry.ID | None = None,
    ) -> StageRemoved:
        target = parse_id(move_deals_to, "moveDealsTo") if move_deals_to else None
        removed = await pipeline_stages.remove_stage(info.context.scope, parse_id(id), target)
        return StageRemoved.of(removed)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Give the stages the order of stageIds (each stage of the pipeline once). "
        "Answers the pipeline with its stages in the new order.",
        graphql_type=Pipeline,
    )
    async def reorder_pipeline_stages(
        self, info: Info[Context, None], pipeline_id: strawberry.ID, stage_ids: list[strawberry.ID]
    ) -> PipelineRow:
        ids = [parse_id(stage_id, "stageIds") for stage_id in stage_ids]
        pipeline = parse_id(pipeline_id, "pipelineId")
        await pipeline_stages.reorder_stages(info.context.scope, pipeline, ids)
        return await read_back(info, PIPELINE, pipeline)
