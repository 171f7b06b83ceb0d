"""The stages of a pipeline: read them locked (stages_of), add, change, remove and reorder
them. A stage with deals in it is only removed when a target stage for those deals is given,
and its kind only changes while it is empty.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlmodel import col

from app.data import records
from app.data.changes import jsonable
from app.data.tenancy import TenantScope
from app.data.unit_of_work import UnitOfWork
from app.errors import BadUserInput, Conflict
from app.services.common.validation import validate, validate_patch
from app.services.deals.rules import DEAL_ROWS
from app.services.pipelines.rows import StageRow
from app.services.pipelines.rules import (
    MAX_STAGES,
    PIPELINE,
    STAGE,
    STAGE_NOT_NULLABLE,
    StageInput,
    StagePatch,
)
from app.services.pipelines.service import lock_deals
from models import Deal, Pipeline, PipelineStage


async def _renumber(uow: UnitOfWork, stage_ids: Sequence[uuid.UUID]) -> None:
    positions = sa.case(
        {stage_id: index for index, stage_id in enumerate(stage_ids)}, value=STAGE.id
    )
    await uow.execute_rows(
        sa.update(PipelineStage)
        .where(STAGE.id.in_(stage_ids))
        .values(position=positions)
        .execution_options(synchronize_session=False),
    )


async def add_stage(
    scope: TenantScope, pipeline_id: uuid.UUID, data: Mapping[str, Any], position: int | None
) -> StageRow:
    """Insert a stage at `position` (0 = first; default: last)."""
    stage = validate(StageInput, data).model_dump()
    with records.constraint_errors(STAGE.constraint_errors):
        async with scope.writing() as uow:
            await records.get_row_in(uow, PIPELINE, pipeline_id)
            existing = [row.id for row in await stages_of(uow, pipeline_id)]
            if len(existing) >= MAX_STAGES:
                raise BadUserInput.single(
                    "pipelineId", f"a pipeline has at most {MAX_STAGES} stages"
                )
            index = len(existing) if position is None else max(0, min(position, len(existing)))
            insert = sa.insert(PipelineStage).values(
                scope.owned(pipeline_id=pipeline_id, position=index, **stage)
            )
            row = (await uow.execute_rows(insert.returning(*STAGE.columns))).one()
            await _renumber(uow, [*existing[:index], row.id, *existing[index:]])
            records.record_created(uow, STAGE, row)
    return await records.get_row(scope, STAGE, row.id)


async def update_stage(
    scope: TenantScope, stage_id: uuid.UUID, data: Mapping[str, Any]
) -> StageRow:
    """Rename, re-weight or re-kind a stage; its kind stays while deals sit in it (their status
    follows the kind, and a LOST status needs a reason only a person can give)."""
    values = validate_patch(StagePatch, STAGE_NOT_NULLABLE, data)
    if "kind" not in values:
        return await records.update_row(scope, STAGE, stage_id, values)

    async def keep_kind_of_used_stage(uow: UnitOfWork, stage: Row[Any]) -> dict[str, Any]:
        deals = await _deal_count(uow, stage_id)
        if deals and stage.kind is not values["kind"]:
            raise Conflict(
                f"{deals} deal(s) are in this stage; move them before changing its kind.",
                dealCount=deals,
            )
        return {}

    steps = records.UpdateSteps(place=keep_kind_of_used_stage)
    return await records.update_row(scope, STAGE, stage_id, values, steps=steps)


async def remove_stage(
    scope: TenantScope, stage_id: uuid.UUID, move_deals_to: uuid.UUID | None
) -> StageRow:
    """Remove a stage; its deals move to `move_deals_to` (same pipeline), else it is refused.
    Returns the stage as it was (its pipeline_id says which board changed)."""
    async with scope.writing() as uow:
        # Its deals before any stage row: a deal write holds its deal, then reaches the stage
        # row (a move's stage lock, the foreign key of a new board figure); the other order
        # deadlocked.
        await lock_deals(uow, col(Deal.stage_id) == stage_id)
        stage = await records.get_row_in(uow, STAGE, stage_id)
        stages = await stages_of(uow, stage.pipeline_id)
        if len(stages) == 1:
            raise BadUserInput.single("id", "a pipeline keeps at least one stage")
        deals = await _deal_count(uow, stage_id)
        if deals and move_deals_to is None:
            raise Conflict(
                f"{deals} deal(s) are in this stage; give moveDealsTo to move them first.",
                dealCount=deals,
            )
        if deals:
            target = _target_stage(stages, stage, move_deals_to)
            await _move_all_deals(uow, stage_id, target)
        await uow.execute_rows(
            sa.delete(PipelineStage)
            .where(STAGE.id == stage_id)
            .execution_options(synchronize_session=False),
        )
        await _renumber(uow, [s.id for s in stages if s.id != stage_id])
        records.record_deleted(uow, STAGE, stage)
    return records.row_of_entity(STAGE, stage)


def _target_stage(
    stages: Sequence[StageRow], removed: StageRow, target_id: uuid.UUID | None
) -> StageRow:
    """Deals keep their status, lost reason and close time: the target has the same kind."""
    target = next((s for s in stages if s.id == target_id and s.id != removed.id), None)
    if target is None:
        raise BadUserInput.single("moveDealsTo", "must be another stage of the same pipeline")
    if target.kind is not removed.kind:
        raise BadUserInput.single(
            "moveDealsTo", f"must be a {removed.kind.value} stage like the one removed"
        )
    return target


async def _deal_count(uow: UnitOfWork, stage_id: uuid.UUID) -> int:
    count = sa.select(sa.func.count()).select_from(Deal).where(col(Deal.stage_id) == stage_id)
    # Trashed deals too: they move with the stage's other deals (app.services.pipelines.
    # service.lock_deals), so the caller must say where.
    return int((await uow.execute_rows(count, with_trashed=True)).scalar_one())


async def _move_all_deals(uow: UnitOfWork, stage_id: uuid.UUID, target: StageRow) -> None:
    before = await lock_deals(uow, col(Deal.stage_id) == stage_id)
    moved = await uow.execute_rows(
        sa.update(Deal)
        .where(col(Deal.stage_id) == stage_id)
        .values(stage_id=target.id, version=col(Deal.version) + 1)
        .returning(*DEAL_ROWS.columns)
        .execution_options(synchronize_session=False),
        with_trashed=True,
    )
    after = {row.id: row for row in moved}
    for old in before:
        records.record_updated(uow, DEAL_ROWS, old, after[old.id])


async def reorder_stages(
    scope: TenantScope, pipeline_id: uuid.UUID, stage_ids: Sequence[uuid.UUID]
) -> Sequence[StageRow]:
    """Give the stages the order of `stage_ids`, which must list each stage exactly once."""
    async with scope.writing() as uow:
        await records.get_row_in(uow, PIPELINE, pipeline_id)
        order = [row.id for row in await stages_of(uow, pipeline_id)]
        if len(stage_ids) != len(set(stage_ids)) or set(stage_ids) != set(order):
            raise BadUserInput.single("stageIds", "must list every stage of the pipeline once")
        await _renumber(uow, stage_ids)
        if order != list(stage_ids):
            changes = {"stageOrder": [jsonable(order), jsonable(list(stage_ids))]}
            uow.record("crm.pipeline.updated", "pipeline", pipeline_id, changes)
        return await stages_of(uow, pipeline_id)


@functools.cache
def _stages_statement(of_default: bool, shared: bool) -> Any:
    """Built once per form (a deal is placed on every create): compiled and keyed once."""
    pipeline: Any = (
        sa.select(PIPELINE.id).where(col(Pipeline.is_default)).scalar_subquery()
        if of_default
        else sa.bindparam("pipeline_id", type_=sa.Uuid())
    )
    return (
        sa.select(*STAGE.columns)
        .where(col(PipelineStage.pipeline_id) == pipeline)
        .order_by(col(PipelineStage.position), STAGE.id)
        .with_for_update(read=shared)
    )


async def stages_of(
    uow: UnitOfWork, pipeline_id: uuid.UUID | None, *, shared: bool = False
) -> list[Row[Any]]:
    """The stages of a pipeline (None: of the tenant's default one) in order, locked: a stage
    change (these functions) locks them FOR UPDATE; a deal placed by them (`shared`) FOR SHARE,
    which keeps their kinds and their set as read until it commits, as the exclusive lock did,
    without making the deal writes of a pipeline wait for each other."""
    statement = _stages_statement(pipeline_id is None, shared)
    if pipeline_id is None:
        return list(await uow.execute_rows(statement))
    return list(await uow.execute_rows(statement, {"pipeline_id": pipeline_id}))
