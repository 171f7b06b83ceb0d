"""Pipelines and stages are configuration: admins write them."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from app.services.pipelines import service
from app.services.pipelines import stages as pipeline_stages
from app.services.pipelines.rows import PipelineRow
from app.services.pipelines.rules import MAX_STAGES, PIPELINE
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

PipelineId = Annotated[
    strawberry.ID,
    strawberry.argument(description="The pipeline's id; unknown: NOT_FOUND."),
]
StageId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="The stage's id (`Stage.id`); unknown or another tenant's: NOT_FOUND."
    ),
]


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
        id: PipelineId,
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
        id: PipelineId,
    ) -> strawberry.ID:
        deleted = await service.delete_pipeline(info.context.scope, parse_id(id))
        return strawberry.ID(str(deleted))

    @strawberry.mutation(
        permission_classes=ADMIN,
        description=f"Add a column to a board (admin): at most {MAX_STAGES} stages per pipeline "
        "(one more: BAD_USER_INPUT); a name it has already (ignoring case): CONFLICT. Stages "
        "after it move one place right. Event crm.pipeline.stage_added. Answers the stage and "
        "the pipeline with its stages as they are now.",
        graphql_type=StagePayload,
    )
    async def add_pipeline_stage(
        self,
        info: Info[Context, None],
        pipeline_id: PipelineId,
        input: Annotated[inputs.StageInput, strawberry.argument(description="The new stage.")],
        position: Annotated[
            int | None,
            strawberry.argument(
                description="Where it goes, counted from the left: 0 is the first column. "
                "Unset or past the last: it becomes the last; below 0: the first."
            ),
        ] = None,
    ) -> StageWritten:
        scope = info.context.scope
        added = await pipeline_stages.add_stage(
            scope, parse_id(pipeline_id, "pipelineId"), sent_fields(input), position
        )
        return StageWritten.of(added)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Rename a stage, change its probability or (while no deal, not even one in "
        "the trash, is in it) its kind (admin). Event crm.pipeline.stage_updated with what "
        "changed. Answers the stage and its pipeline as they are now (the summary follows a "
        "new probability).",
        graphql_type=StagePayload,
    )
    async def update_pipeline_stage(
        self,
        info: Info[Context, None],
        id: StageId,
        input: Annotated[
            inputs.UpdateStageInput,
            strawberry.argument(description="The fields to change; those not sent stay."),
        ],
    ) -> StageWritten:
        scope = info.context.scope
        return StageWritten.of(
            await pipeline_stages.update_stage(scope, parse_id(id), sent_fields(input))
        )

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Remove a stage (admin). While deals sit in it (those in the trash too) it "
        "is refused with CONFLICT (extensions.dealCount) unless moveDealsTo names where they "
        "go; a pipeline keeps at least one stage (removing the last: BAD_USER_INPUT). Events "
        "crm.pipeline.stage_removed, and crm.deal.updated and stage_changed for each deal "
        "moved. Answers its id and the pipeline as it is now.",
        graphql_type=StageRemovalPayload,
    )
    async def remove_pipeline_stage(
        self,
        info: Info[Context, None],
        id: StageId,
        move_deals_to: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Another stage of the same pipeline and of the same kind that "
                "takes this stage's deals (they keep their status, lost reason and "
                "closedAt); else BAD_USER_INPUT. Not needed while the stage is empty."
            ),
        ] = None,
    ) -> StageRemoved:
        target = parse_id(move_deals_to, "moveDealsTo") if move_deals_to else None
        removed = await pipeline_stages.remove_stage(info.context.scope, parse_id(id), target)
        return StageRemoved.of(removed)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Put a board's columns in a new order (admin); deals stay in their stages. "
        "Event crm.pipeline.updated (changes.stageOrder) when the order changed. Answers the "
        "pipeline with its stages in the new order.",
        graphql_type=Pipeline,
    )
    async def reorder_pipeline_stages(
        self,
        info: Info[Context, None],
        pipeline_id: PipelineId,
        stage_ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(
                description="Every stage of the pipeline exactly once, from the left (else "
                "BAD_USER_INPUT)."
            ),
        ],
    ) -> PipelineRow:
        ids = [parse_id(stage_id, "stageIds") for stage_id in stage_ids]
        pipeline = parse_id(pipeline_id, "pipelineId")
        await pipeline_stages.reorder_stages(info.context.scope, pipeline, ids)
        return await read_back(info, PIPELINE, pipeline)
