"""What reading a pipeline or a stage returns: Protocols of the record columns of
models.Pipeline and models.PipelineStage (see app/services/companies/rows.py for why)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from models.enums import StageKind


class PipelineRow(Protocol):
    id: uuid.UUID
    name: str
    description: str | None
    is_default: bool
    version: int
    created_at: datetime
    updated_at: datetime


class StageRow(Protocol):
    id: uuid.UUID
    pipeline_id: uuid.UUID
    name: str
    position: int
    probability: int
    kind: StageKind
    created_at: datetime
    updated_at: datetime
