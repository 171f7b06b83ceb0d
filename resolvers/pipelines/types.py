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


@strawberry.type(
    description="A column of a deal board, such as Qualifiziert or Angebot versendet: a step "
    "deals pass on their way to won or lost. Admins configure stages; every role reads them."
)
class Stage(Node):
    id: strawberry.ID = strawberry.field(description="The stage's id (a UUID).")
    pipeline_id: strawberry.ID = strawberry.field(description="The pipeline it belongs to.")
    name: str = strawberry.field(
        description="The column's title on the board; 1-100 characters, unique in its pipeline "
        "(ignoring case)."
    )
    position: int = strawberry.field(
        description="Its place on the board from the left, counting from 0."
    )
    probability: int = strawberry.field(
        description="Win probability in percent (0-100): weights the deals' values in the "
        "pipeline summary."
    )
    kind: StageKind = strawberry.field(
        description="OPEN, WON or LOST: a deal in the stage has this status."
    )


@strawberry.type(description="An amount of money in one currency (sums are never converted).")
class Money:
    amount: Decimal = strawberry.field(description="The amount, with 2 decimals.")
    currency: str = strawberry.field(description="Its ISO 4217 code, e.g. EUR.")


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


@strawberry.type(
    description="What sits in one stage of a board: its deals (those in the trash left out), "
    "their value and weighted value."
)
class StageSummary:
    stage_id: strawberry.ID = strawberry.field(description="The stage summed up.")
    stage: Stage = rows_field(_summary_stage, "The stage summed up.")
    deal_count: int = strawberry.field(description="How many deals are in the stage.")
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


@strawberry.type(
    description="A sales pipeline (a deal board) with its stages in board order, e.g. "
    "Vertrieb or Projektgeschäft. Admins configure pipelines; every role reads them."
)
class Pipeline(Node):
    id: strawberry.ID = strawberry.field(description="The pipeline's id (a UUID).")
    name: str = strawberry.field(
        description="The board's title; 1-100 characters, unique in the tenant (ignoring case)."
    )
    description: str | None = strawberry.field(
        description="What the pipeline is for, at most 500 characters; null: none."
    )
    is_default: bool = strawberry.field(
        description="Whether this is the tenant's default board (exactly one is, once a "
        "pipeline exists): new deals without pipelineId go here."
    )
    stages: list[Stage] = relation_field(
        STAGES, _stages, f"Its stages in board order (1 to {MAX_STAGES})."
    )
    summary: list[StageSummary] = rows_field(
        _summary,
        "Per stage: number of deals, total and weighted value.",
        metadata={LIST_SIZE: MAX_STAGES},
    )
    version: int = strawberry.field(
        description="Grows by one with every change of its name, description or default "
        "flag (changes of its stages do not count)."
    )
    created_at: datetime = strawberry.field(description="When the pipeline was created.")
    updated_at: datetime = strawberry.field(description="When the pipeline was last changed.")
