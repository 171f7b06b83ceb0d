"""Pipeline and stage inputs."""

from __future__ import annotations

import strawberry

from app.services.pipelines.rules import MAX_STAGES
from models.enums import StageKind

_STAGE_NAME = (
    "The column's title, 1-100 characters, unique in the pipeline ignoring case (one taken: "
    "CONFLICT; twice in one createPipeline: BAD_USER_INPUT)."
)
_PROBABILITY = "Win probability in percent, 0-100 (weights the pipeline summary)."
_KIND = "OPEN, WON or LOST: deals moved into the stage get this status."
_PIPELINE_NAME = (
    "The board's title, 1-100 characters, unique in the tenant ignoring case (else CONFLICT)."
)
_DESCRIPTION = "What the pipeline is for, at most 500 characters."


@strawberry.input(description="A stage (board column) of a new pipeline, or one added to it.")
class StageInput:
    name: str = strawberry.field(description=_STAGE_NAME)
    probability: int = strawberry.field(default=0, description=f"{_PROBABILITY} Default 0.")
    kind: StageKind = strawberry.field(default=StageKind.OPEN, description=f"{_KIND} Default OPEN.")


@strawberry.input(description="Only the fields sent change.")
class UpdateStageInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"{_STAGE_NAME} Cannot be null."
    )
    probability: int | None = strawberry.field(
        default=strawberry.UNSET, description=f"{_PROBABILITY} Cannot be null."
    )
    kind: StageKind | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"{_KIND} Changes only while no deal is in the stage (else CONFLICT: move "
        "them first). Cannot be null.",
    )


@strawberry.input(description="A pipeline with its stages in board order.")
class CreatePipelineInput:
    name: str = strawberry.field(description=_PIPELINE_NAME)
    stages: list[StageInput] = strawberry.field(
        description=f"Its stages from left to right: 1 to {MAX_STAGES}, names unique."
    )
    description: str | None = strawberry.field(default=None, description=_DESCRIPTION)
    is_default: bool = strawberry.field(
        default=False,
        description="true: it becomes the tenant's default board (the old default no longer "
        "is). The tenant's first pipeline is the default anyway.",
    )


@strawberry.input(description="Only the fields sent change; isDefault: true moves the default.")
class UpdatePipelineInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"{_PIPELINE_NAME} Cannot be null."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"{_DESCRIPTION} null clears it."
    )
    is_default: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="true: make it the default board. false (or null) is BAD_USER_INPUT: make "
        "another pipeline the default instead.",
    )
