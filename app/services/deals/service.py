"""Deals: create, update and move with the stage and status rules, delete (reads: queries.py;
what a valid deal is and its rules: rules.py)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Row
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.data import records, trash
from app.data.live_links import refuse_hidden_links
from app.data.tenancy import TenantScope
from app.data.unit_of_work import UnitOfWork
from app.errors import BadUserInput, NotFound
from app.services.common.validation import validate, validate_patch
from app.services.deals.rows import DealRow
from app.services.deals.rules import (
    DEAL,
    NOT_NULLABLE,
    PLACED_FIELDS,
    DealFields,
    DealInput,
    DealPatch,
    DealState,
    Requested,
    resolve,
)
from app.services.lexware import deal_parties as lexware_deal_parties
from app.services.owners.rules import OwnerInput, initial_owners, listed_owners
from app.services.pipelines.stages import stages_of
from models import Deal, DealOwner
from models.companies import owner_role_type

_RULE_FIELDS = ("stage_id", "status", "lost_reason", "lost_reason_text")
_PARTIES = ("company_id", "contact_id")  # the deal's customer (its vouchers must stay its)


async def _stages(uow: UnitOfWork, requested: uuid.UUID | None) -> list[Row[Any]]:
    """The stages of the requested pipeline, or of the tenant's default one, in one statement
    (locked shared: see stages_of). A pipeline keeps at least one stage, so none means no
    pipeline."""
    stages = await stages_of(uow, requested, shared=True)
    if stages:
        return stages
    if requested is not None:
        raise NotFound("Pipeline")
    raise BadUserInput.single("pipelineId", "there is no pipeline yet; create one first")


# What a new deal's INSERT is given: the same keys for every deal, so one statement serves all.
_CREATED = ("id", "tenant_id", "pipeline_id", *DealFields.model_fields, *PLACED_FIELDS)


@functools.cache
def _create_statement() -> Any:
    """The deal and its owners in one statement, the owners' insert a CTE that reads the new
    deal: built once with bind parameters, so SQLAlchemy compiles it once."""
    table: Any = Deal.__table__  # type: ignore[attr-defined]
    values = {k: sa.bindparam(f"deal_{k}", type_=table.c[k].type) for k in _CREATED}
    # The tenant and `deleted_at` too: the read filters compare them on what it answers.
    filtered_by = (col(Deal.tenant_id), col(Deal.deleted_at))
    new = sa.insert(Deal).values(values).returning(*DEAL.columns, *filtered_by)
    deal = new.cte("new_deal")
    owners = (
        sa.func.unnest(
            sa.bindparam("owner_users", type_=ARRAY(sa.Uuid())),
            sa.bindparam("owner_roles", type_=ARRAY(sa.Text())),
        )
        .table_valued("user_id", "role")
        .render_derived(name="listed_owner")
    )
    rows = sa.select(
        deal.c.tenant_id,
        sa.func.gen_random_uuid(),
        deal.c.id,
        owners.c.user_id,
        sa.cast(owners.c.role, owner_role_type),
    ).join_from(deal, owners, sa.true())
    add = sa.insert(DealOwner).from_select(["tenant_id", "id", "deal_id", "user_id", "role"], rows)
    written = aliased(Deal, deal)  # an entity: the tenant filter applies to what it answers
    answer = sa.select(*(getattr(written, column.key) for column in DEAL.columns))
    return answer.add_cte(add.cte("new_owners"))


def _create_parameters(values: Mapping[str, Any], owners: list[OwnerInput]) -> dict[str, Any]:
    return {
        **{f"deal_{k}": values[k] for k in _CREATED},
        "owner_users": [owner.user_id for owner in owners],
        "owner_roles": [owner.role.value for owner in owners],
    }


def _requested(values: Mapping[str, Any]) -> Requested:
    return Requested(**{f: values[f] for f in _RULE_FIELDS if f in values})


async def create_deal(scope: TenantScope, data: Mapping[str, Any]) -> DealRow:
    """The deal (placed by the stage rules) and its owners (those named, else its creator:
    owners.initial_owners) in one unit of work."""
    parsed = validate(DealInput, data)
    sent = parsed.model_dump(exclude_unset=True)
    owners = initial_owners(scope, parsed.owners)
    fields = parsed.model_dump(include=set(DealFields.model_fields))
    with records.constraint_errors(DEAL.constraint_errors):
        async with scope.writing() as uow:
            stages = await _stages(uow, parsed.pipeline_id)
            placed = resolve(stages, None, _requested(sent))
            values = {"pipeline_id": stages[0].pipeline_id, **fields, **placed}
            await refuse_hidden_links(uow, Deal, values)  # not a company in the trash
            parameters = _create_parameters(scope.owned(id=uuid.uuid4(), **values), owners)
            row = (await uow.execute_rows(_create_statement(), parameters)).one()
            records.record_created(uow, DEAL, row, listed_owners(owners))
    return row


async def update_deal(
    scope: TenantScope,
    deal_id: uuid.UUID,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> DealRow:
    """Change the fields sent; stage, status and lost reason follow the deal rules. A new
    company or contact must leave the deal's vouchers with its customer."""
    values = validate_patch(DealPatch, NOT_NULLABLE, data)
    placed = bool(set(values) & {*_RULE_FIELDS, "pipeline_id"})
    if not placed and not set(values) & set(_PARTIES):
        return await records.update_row(scope, DEAL, deal_id, values, expected_version)

    async def place(uow: UnitOfWork, current: Row[Any]) -> dict[str, Any]:
        parties = [values.get(name, getattr(current, name)) for name in _PARTIES]
        if parties != [getattr(current, name) for name in _PARTIES]:
            await lexware_deal_parties.check_deal_change(uow, deal_id, *parties)
        if not placed:
            return {}
        stages = await _stages(uow, values.get("pipeline_id", current.pipeline_id))
        return resolve(stages, _state(current), _requested(values))

    steps = records.UpdateSteps(place=place)
    return await records.update_row(scope, DEAL, deal_id, values, expected_version, steps=steps)


def _state(row: DealRow) -> DealState:
    return DealState(
        stage_id=row.stage_id,
        status=row.status,
        lost_reason=row.lost_reason,
        lost_reason_text=row.lost_reason_text,
        closed_at=row.closed_at,
        last_open_stage_id=row.last_open_stage_id,
    )


async def move_deal_to_stage(
    scope: TenantScope,
    deal_id: uuid.UUID,
    stage_id: uuid.UUID,
    lost: Mapping[str, Any] | None = None,
) -> DealRow:
    """Drag and drop on a board: the stage decides the status (LOST needs a reason)."""
    return await update_deal(scope, deal_id, {"stage_id": stage_id, **(lost or {})})


async def delete_deal(scope: TenantScope, deal_id: uuid.UUID) -> uuid.UUID:
    """Moves it to the trash (app.services.trash: restore, purge); links stay as they are."""
    return await trash.trash_row(scope, DEAL, deal_id)
