"""Sales pipelines and how their stages are read (changes to the stages themselves are in
`pipeline_stages`).

One default pipeline per tenant (the first one created is it; making another the default
moves the flag).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.data import records
from app.data.changes import Tracked
from app.data.dependents import detach
from app.data.pagination import PageQuery, PageRequest, SortKey, like_pattern, timestamp_key
from app.data.records import Entity
from app.data.tenancy import TenantScope, execute_rows
from app.errors import BadUserInput, Conflict, FieldProblem, NotFound
from app.events.outbox import record
from app.services.common.validation import (
    Input,
    Name100,
    Text500,
    patch_model,
    validate,
    validate_patch,
)
from app.services.deals.rules import DEAL_ROWS
from models import Deal, Pipeline, PipelineStage, StageKind

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


class PipelineOrderField(Enum):
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"


_SORT_KEYS = {
    PipelineOrderField.NAME: SortKey("name", sa.func.lower(col(Pipeline.name))),
    PipelineOrderField.CREATED_AT: timestamp_key("createdAt", col(Pipeline.created_at)),
}


def _where(search: str | None) -> list[Any]:
    return [col(Pipeline.name).ilike(like_pattern(search.strip()))] if search else []


def pipelines_page(page: PageRequest, search: str | None, order: PipelineOrderField) -> PageQuery:
    return PageQuery(PIPELINE, _where(search), _SORT_KEYS[order], page)


async def count_pipelines(scope: TenantScope, search: str | None) -> int:
    return await records.count_rows(scope, Pipeline, _where(search))


async def default_pipeline(scope: TenantScope) -> Row[Any] | None:
    statement = sa.select(*PIPELINE.columns).where(col(Pipeline.is_default))
    async with scope.reading() as session:
        return (await execute_rows(session, statement)).first()


async def get_pipeline(scope: TenantScope, pipeline_id: uuid.UUID) -> Row[Any]:
    return await records.get_row(scope, PIPELINE, pipeline_id)


async def create_pipeline(scope: TenantScope, data: Mapping[str, Any]) -> Row[Any]:
    """The pipeline and its stages (in the order given) in one unit of work."""
    parsed = validate(PipelineInput, data)
    _unique_stage_names(parsed.stages)
    fields = parsed.model_dump(exclude={"stages"})
    with records.constraint_errors(PIPELINE.constraint_errors, STAGE.constraint_errors):
        async with scope.writing() as session:
            await _lock_defaults(session, scope)
            has_any = (await execute_rows(session, sa.select(PIPELINE.id).limit(1))).first()
            fields["is_default"] = fields["is_default"] or has_any is None
            if fields["is_default"]:
                await _clear_default(session)
            insert = sa.insert(Pipeline).values(scope.owned(**fields)).returning(*PIPELINE.columns)
            row = (await execute_rows(session, insert)).one()
            stages = [
                scope.owned(pipeline_id=row.id, position=position, **stage.model_dump())
                for position, stage in enumerate(parsed.stages)
            ]
            stage_rows = (
                await session.execute(sa.insert(PipelineStage).returning(*STAGE.columns), stages)
            ).all()
            listed = [{"id": str(s.id), "name": s.name, "kind": s.kind.value} for s in stage_rows]
            records.record_created(session, PIPELINE, row, {"stages": [None, listed]})
    return row


async def update_pipeline(
    scope: TenantScope, pipeline_id: uuid.UUID, data: Mapping[str, Any]
) -> Row[Any]:
    values = validate_patch(PipelinePatch, PIPELINE_NOT_NULLABLE, data)
    if values.get("is_default") is False:
        raise BadUserInput.single("isDefault", "make another pipeline the default instead")

    async def move_default(session: AsyncSession) -> None:
        if values.get("is_default"):
            await _lock_defaults(session, scope)
            await _clear_default(session)

    steps = records.UpdateSteps(lock=move_default)
    return await records.update_row(scope, PIPELINE, pipeline_id, values, steps=steps)


async def delete_pipeline(scope: TenantScope, pipeline_id: uuid.UUID) -> uuid.UUID:
    """Deletes its stages and deals too (as the original service did), each deal as deleting
    it alone would (its activities that nothing else links go too); if it was the default,
    the oldest remaining pipeline becomes the default."""
    async with scope.writing() as session:
        await _lock_defaults(session, scope)
        deals = await lock_deals(session, col(Deal.pipeline_id) == pipeline_id)
        await detach(session, DEAL_ROWS.dependents, [deal.id for deal in deals])
        deleted = (
            await execute_rows(
                session,
                sa.delete(Pipeline)
                .where(PIPELINE.id == pipeline_id)
                .returning(*PIPELINE.columns)
                .execution_options(synchronize_session=False),
            )
        ).first()
        if deleted is None:
            raise NotFound(PIPELINE.label)
        for deal in deals:
            records.record_deleted(session, DEAL_ROWS, deal)
        records.record_deleted(session, PIPELINE, deleted)
        if deleted.is_default:
            oldest = sa.select(PIPELINE.id).order_by(col(Pipeline.created_at)).limit(1)
            await _set_default(session, PIPELINE.id == oldest.scalar_subquery(), True)
    return pipeline_id


async def lock_deals(session: AsyncSession, where: Any) -> list[Row[Any]]:
    """The deals a pipeline or stage change will touch, locked: their events need them."""
    statement = sa.select(*DEAL_ROWS.columns).where(where).order_by(DEAL_ROWS.id).with_for_update()
    return list(await execute_rows(session, statement))


async def _lock_defaults(session: AsyncSession, scope: TenantScope) -> None:
    """One writer at a time per tenant for what decides the default pipeline."""
    await session.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtext('crm:pipelines:' || :tenant))"),
        {"tenant": str(scope.tenant_id)},
    )


async def _clear_default(session: AsyncSession) -> None:
    await _set_default(session, col(Pipeline.is_default), False)


async def _set_default(session: AsyncSession, where: Any, is_default: bool) -> None:
    changed = await execute_rows(
        session,
        sa.update(Pipeline)
        .where(where)
        .values(is_default=is_default, version=col(Pipeline.version) + 1)
        .returning(PIPELINE.id)
        .execution_options(synchronize_session=False),
    )
    for pipeline_id in changed.scalars():
        changes = {"isDefault": [not is_default, is_default]}
        record(session, "crm.pipeline.updated", "pipeline", pipeline_id, changes)


# ---- stages ---------------------------------------------------------------------------------


@functools.cache
def _stages_statement(of_default: bool) -> Any:
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
        .with_for_update()
    )


async def stages_of(session: AsyncSession, pipeline_id: uuid.UUID | None) -> list[Row[Any]]:
    """The stages of a pipeline (None: of the tenant's default one) in order, locked."""
    if pipeline_id is None:
        return list(await execute_rows(session, _stages_statement(True)))
    return list(await execute_rows(session, _stages_statement(False), {"pipeline_id": pipeline_id}))
