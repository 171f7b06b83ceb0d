"""Sales pipelines: create (with their stages), update and delete (with their stages and deals).
Changes to the stages themselves are in stages.py; reads in queries.py; what a valid pipeline
is: rules.py.

One default pipeline per tenant (the first one created is it; making another the default
moves the flag).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlmodel import col

from app.data import changes, records
from app.data.dependents import detach
from app.data.tenancy import TenantScope
from app.data.unit_of_work import UnitOfWork
from app.errors import BadUserInput, NotFound
from app.services.common.validation import validate, validate_patch
from app.services.deals.rules import DEAL_EVENTS, DEAL_ROWS
from app.services.pipelines.rows import PipelineRow
from app.services.pipelines.rules import (
    PIPELINE,
    PIPELINE_NOT_NULLABLE,
    STAGE,
    PipelineInput,
    PipelinePatch,
    _unique_stage_names,
)
from models import Deal, Pipeline, PipelineStage


async def create_pipeline(scope: TenantScope, data: Mapping[str, Any]) -> PipelineRow:
    """The pipeline and its stages (in the order given) in one unit of work."""
    parsed = validate(PipelineInput, data)
    _unique_stage_names(parsed.stages)
    fields = parsed.model_dump(exclude={"stages"})
    with records.constraint_errors(PIPELINE.constraint_errors, STAGE.constraint_errors):
        async with scope.writing() as uow:
            await _lock_defaults(uow, scope)
            has_any = (await uow.execute_rows(sa.select(PIPELINE.id).limit(1))).first()
            fields["is_default"] = fields["is_default"] or has_any is None
            if fields["is_default"]:
                await _clear_default(uow)
            insert = sa.insert(Pipeline).values(scope.owned(**fields)).returning(*PIPELINE.columns)
            row = (await uow.execute_rows(insert)).one()
            stages = [
                scope.owned(pipeline_id=row.id, position=position, **stage.model_dump())
                for position, stage in enumerate(parsed.stages)
            ]
            stage_rows = (
                await uow.execute(sa.insert(PipelineStage).returning(*STAGE.columns), stages)
            ).all()
            listed = [{"id": str(s.id), "name": s.name, "kind": s.kind.value} for s in stage_rows]
            records.record_created(uow, PIPELINE, row, {"stages": [None, listed]})
    return row


async def update_pipeline(
    scope: TenantScope, pipeline_id: uuid.UUID, data: Mapping[str, Any]
) -> PipelineRow:
    values = validate_patch(PipelinePatch, PIPELINE_NOT_NULLABLE, data)
    if values.get("is_default") is False:
        raise BadUserInput.single("isDefault", "make another pipeline the default instead")

    async def move_default(uow: UnitOfWork) -> None:
        if values.get("is_default"):
            await _lock_defaults(uow, scope)
            await _clear_default(uow)

    steps = records.UpdateSteps(lock=move_default)
    return await records.update_row(scope, PIPELINE, pipeline_id, values, steps=steps)


async def delete_pipeline(scope: TenantScope, pipeline_id: uuid.UUID) -> uuid.UUID:
    """Deletes its stages and deals too (as the original service did), each deal as deleting
    it alone would (its activities that nothing else links go too); if it was the default,
    the oldest remaining pipeline becomes the default."""
    async with scope.writing() as uow:
        await _lock_defaults(uow, scope)
        deals = await lock_deals(uow, col(Deal.pipeline_id) == pipeline_id)
        await detach(uow, DEAL_ROWS.dependents, [deal.id for deal in deals])
        deleted = (
            await uow.execute_rows(
                sa.delete(Pipeline)
                .where(PIPELINE.id == pipeline_id)
                .returning(*PIPELINE.columns)
                .execution_options(synchronize_session=False),
            )
        ).first()
        if deleted is None:
            raise NotFound(PIPELINE.label)
        for deal in deals:  # gone for good with the pipeline, not into the trash
            changes.purged(uow, DEAL_EVENTS, deal)
        records.record_deleted(uow, PIPELINE, deleted)
        if deleted.is_default:
            oldest = sa.select(PIPELINE.id).order_by(col(Pipeline.created_at)).limit(1)
            await _set_default(uow, PIPELINE.id == oldest.scalar_subquery(), True)
    return pipeline_id


async def lock_deals(uow: UnitOfWork, where: Any) -> list[Row[Any]]:
    """The deals a pipeline or stage change will touch, locked: their events need them. Those
    in the trash too: they go or move with their pipeline or stage as the others do (its
    foreign keys would otherwise delete them silently, or refuse the stage's removal)."""
    statement = sa.select(*DEAL_ROWS.columns).where(where).order_by(DEAL_ROWS.id).with_for_update()
    return list(await uow.execute_rows(statement, with_trashed=True))


async def _lock_defaults(uow: UnitOfWork, scope: TenantScope) -> None:
    """One writer at a time per tenant for what decides the default pipeline."""
    await uow.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtext('crm:pipelines:' || :tenant))"),
        {"tenant": str(scope.tenant_id)},
    )


async def _clear_default(uow: UnitOfWork) -> None:
    await _set_default(uow, col(Pipeline.is_default), False)


async def _set_default(uow: UnitOfWork, where: Any, is_default: bool) -> None:
    changed = await uow.execute_rows(
        sa.update(Pipeline)
        .where(where)
        .values(is_default=is_default, version=col(Pipeline.version) + 1)
        .returning(PIPELINE.id)
        .execution_options(synchronize_session=False),
    )
    for pipeline_id in changed.scalars():
        changes = {"isDefault": [not is_default, is_default]}
        uow.record("crm.pipeline.updated", "pipeline", pipeline_id, changes)
