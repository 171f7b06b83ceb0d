"""What the stage mutations answer: the stage and its pipeline, read after the change (its
`stages` in their new order and its `summary`), so a cached board follows without a refetch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

import strawberry
from strawberry.types import Info

from app.services.pipelines.rows import PipelineRow, StageRow
from app.services.pipelines.rules import PIPELINE
from resolvers.common.relations import rows_field
from resolvers.common.written import read_back
from resolvers.context import Context
from resolvers.pipelines.types import Pipeline, Stage


class OnPipeline(Protocol):
    pipeline_id: uuid.UUID


@dataclass(frozen=True)
class StageWritten:
    stage: StageRow
    pipeline_id: uuid.UUID

    @classmethod
    def of(cls, row: StageRow) -> StageWritten:
        return cls(row, row.pipeline_id)


@dataclass(frozen=True)
class StageRemoved:
    removed_id: uuid.UUID
    pipeline_id: uuid.UUID

    @classmethod
    def of(cls, row: StageRow) -> StageRemoved:
        return cls(row.id, row.pipeline_id)


async def _pipeline(root: strawberry.Parent[OnPipeline], info: Info[Context, None]) -> PipelineRow:
    return await read_back(info, PIPELINE, root.pipeline_id)


AFTER = "The stage's pipeline as it is after the change: its `stages` in order, its `summary`."


@strawberry.type(
    description="A stage that was added or changed, with its pipeline as it is after the change."
)
class StagePayload:
    stage: Stage = strawberry.field(description="The stage as stored now.")
    pipeline: Pipeline = rows_field(_pipeline, AFTER)


@strawberry.type(
    description="A stage that was removed, with its pipeline as it is after the change (the "
    "stages renumbered, the deals moved to `moveDealsTo` counted there)."
)
class StageRemovalPayload:
    removed_id: strawberry.ID = strawberry.field(description="The id of the removed stage.")
    pipeline: Pipeline = rows_field(_pipeline, AFTER)
