"""Pipeline, Stage and the per-stage summary of a board."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import strawberry
from sqlmodel import col
from strawberry.types import Info

from app.services.deals.queries import StageSummary as StageSummaryRow
from app.services.deals.queries import stage_summaries
from app.services.pipelines.rows import PipelineRow, StageRow
from app.services.pipelines.rules import MAX_STAGES, STAGE
from models import PipelineStage
from models.enums import StageKind
from resolvers.common.children import related
from resolvers.common.relations import LIST_SIZE, ToMany, relation_field, rows_field
from resolvers.context import Context
from resolvers.nodes.types import Node


@strawberry.type(description="A column of a deal board.")
class Stage(Node):
    id: strawberry.ID
    pipeline_id: strawberry.ID
    name: str
    position: int
    probability: int = strawberry.field(description="Win probability in percent (0-100).")
    kind: StageKind


@strawberry.type(description="An amount in one currency.")
class Money:
    amount: Decimal
    currency: str


STAGES = ToMany(
    STAGE,
    "pipeline_id",
    (col(PipelineStage.position), col(PipelineStage.id)),
    limited=False,
    at_most=MAX_STAGES,
)


async def _summary_stage(
    root: strawberry.Parent[StageSummaryRow], info: Info[Context, None]
) -> StageRow | None:
    return await info.context.loaders.by_id(STAGE).load(root.stage_id)


@strawberry.type(description="What sits in one stage: deals, their value, weighted value.")
class StageSummary:
    stage_id: strawberry.ID
    stage: Stage = rows_field(_summary_stage)
    deal_count: int
    total: list[Money] = strawberry.field(description="Sum of deal values, per currency.")
    weighted: list[Money] = strawberry.field(
        description="Sum of deal value x stage probability, per currency."
    )


async def _stages(
    root: strawberry.Parent[PipelineRow], info: Info[Context, None]
) -> list[StageRow]:
    """StagesByPipelineLoader, in board order."""
    return await related(info, STAGES, root)


async def _summary(
    root: strawberry.Parent[PipelineRow], info: Info[Context, None]
) -> list[StageSummaryRow]:
    """SummaryByPipelineLoader: one aggregate statement for all pipelines asked for."""
    context = info.context

    async def load(ids: list[uuid.UUID]) -> list[list[StageSummaryRow]]:
        return await stage_summaries(context.scope, ids)

    return await context.loaders.custom("summary", load).load(root.id)


@strawberry.type(description="A sales pipeline with its ordered stages.")
class Pipeline(Node):
    id: strawberry.ID
    name: str
    description: str | None
    is_default: bool
    stages: list[Stage] = relation_field(STAGES, _stages)
    summary: list[StageSummary] = rows_field(
        _summary,
        "Per stage: number of deals, total and weighted value.",
        metadata={LIST_SIZE: MAX_STAGES},
    )
    version: int
    created_at: datetime
    updated_at: datetime
