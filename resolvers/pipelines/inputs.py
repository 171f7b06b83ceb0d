"""Pipeline and stage inputs."""

from __future__ import annotations

import strawberry

from models.enums import StageKind


@strawberry.input
class StageInput:
    name: str
    probability: int = 0
    kind: StageKind = StageKind.OPEN


@strawberry.input(description="Only the fields sent change.")
class UpdateStageInput:
    name: str | None = strawberry.UNSET
    probability: int | None = strawberry.UNSET
    kind: StageKind | None = strawberry.UNSET


@strawberry.input(description="A pipeline with its stages in board order.")
class CreatePipelineInput:
    name: str
    stages: list[StageInput]
    description: str | None = None
    is_default: bool = False


@strawberry.input(description="Only the fields sent change; isDefault: true moves the default.")
class UpdatePipelineInput:
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    is_default: bool | None = strawberry.UNSET
