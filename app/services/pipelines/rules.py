"""What a pipeline and its stages are (declarations and pure rules, no I/O): the tables as the
services treat them (a stage's events are its pipeline's), at most MAX_STAGES stages, and a
valid input (stage names unique in their pipeline)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import Field

from app.data.changes import Tracked
from app.data.records import Entity
from app.errors import BadUserInput, Conflict, FieldProblem, NotFound
from app.services.common.validation import Input, Name100, Text500, patch_model
from app.services.pipelines.rows import PipelineRow, StageRow
from models import Pipeline, PipelineStage, StageKind

# A stage's changes are changes of its pipeline: `crm.pipeline.stage_added` and so on.
_STAGE_EVENTS = Tracked(
    "pipeline",
    subject="pipeline_id",
    created="stage_added",
    updated="stage_updated",
    deleted="stage_removed",
)


PIPELINE = Entity(
    Pipeline,
    "Pipeline",
    {
        "uq_pipeline_tenant_id_name": lambda: Conflict("A pipeline with this name already exists."),
        "uq_pipeline_tenant_id_default": lambda: Conflict(
            "The default pipeline was changed at the same time; try again."
        ),
    },
    Tracked("pipeline"),
    row=PipelineRow,
)


STAGE = Entity(
    PipelineStage,
    "Stage",
    {
        "uq_pipeline_stage_pipeline_id_name": lambda: Conflict(
            "This pipeline already has a stage with this name."
        ),
        "fk_pipeline_stage_pipeline_id_pipeline": lambda: NotFound("Pipeline"),
    },
    _STAGE_EVENTS,
    row=StageRow,
)


MAX_STAGES = 30


Probability = Annotated[int, Field(ge=0, le=100)]


class StageInput(Input):
    name: Name100
    probability: Probability = 0
    kind: StageKind = StageKind.OPEN


StagePatch, STAGE_NOT_NULLABLE = patch_model(StageInput)


class PipelineInput(Input):
    name: Name100
    description: Text500 = None
    is_default: bool = False
    stages: Annotated[list[StageInput], Field(min_length=1, max_length=MAX_STAGES)]


class PipelineFields(Input):
    name: Name100
    description: Text500 = None
    is_default: bool = False


PipelinePatch, PIPELINE_NOT_NULLABLE = patch_model(PipelineFields)


def _unique_stage_names(stages: Sequence[StageInput]) -> None:
    seen: set[str] = set()
    problems = []
    for index, stage in enumerate(stages):
        if stage.name.lower() in seen:
            problems.append(FieldProblem(f"stages[{index}].name", "is used twice"))
        seen.add(stage.name.lower())
    if problems:
        raise BadUserInput(problems)
