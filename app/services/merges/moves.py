"""The statements of a merge that move what belongs to the merged records to the survivor,
inside the merge's unit of work (the order and the rules: service.py and rules.py).

Trashed rows move too (`with_trashed`): a trashed deal of a merged company must follow the
survivor, or deleting the merged row would unlink it for good.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlmodel import col

from app.data.row_values import record_columns
from app.data.unit_of_work import UnitOfWork
from app.services.contact_info.rules import ValueKind
from app.services.merges.plans import plan_owners, plan_relationships, plan_values
from app.services.merges.rules import MergeKind, MergeRequest, Moved, Pointer
from models import CompanyRelationship, DealVoucher


async def rows_of(uow: UnitOfWork, statement: Any) -> list[Row[Any]]:
    """Every row the statement matches, trashed ones too."""
    return list(await uow.execute_rows(statement, with_trashed=True))


async def lock_pointers(uow: UnitOfWork, pointer: Pointer, ids: Sequence[uuid.UUID]) -> None:
    """The rows pointing at the records, locked in id order (the deals, before the records)."""
    model = pointer.model
    link = col(getattr(model, pointer.column))
    statement = sa.select(col(model.id)).where(link.in_(ids)).order_by(col(model.id))
    await rows_of(uow, statement.with_for_update())


async def repoint(uow: UnitOfWork, pointer: Pointer, request: MergeRequest) -> Moved:
    """The rows pointing at a merged record point at the survivor (a versioned row's version
    goes up: its link changed)."""
    model = pointer.model
    link = col(getattr(model, pointer.column))
    values: dict[str, Any] = {pointer.column: request.survivor_id}
    if "version" in model.model_fields:
        values["version"] = col(model.version) + 1
    statement = (
        sa.update(model)
        .where(link.in_(request.merged_ids))
        .values(**values)
        .returning(col(model.id))
        .execution_options(synchronize_session=False)
    )
    return Moved(pointer.name, sorted(row.id for row in await rows_of(uow, statement)))


async def deal_voucher_links(uow: UnitOfWork, deals: Sequence[uuid.UUID]) -> Moved:
    """The deal-voucher links of the moved deals: they follow their deals (nothing to write)."""
    if not deals:
        return Moved("dealVoucherLinks")
    statement = sa.select(col(DealVoucher.id)).where(col(DealVoucher.deal_id).in_(deals))
    return Moved("dealVoucherLinks", sorted(row.id for row in await rows_of(uow, statement)))


async def move_values(
    uow: UnitOfWork, kind: ValueKind[Any], name: str, merge: MergeKind, request: MergeRequest
) -> Moved:
    """E-mails or phones: the merged records' new ones move over (not primary, unless the
    survivor had none), duplicates go."""
    entity, column = kind.entity, merge.value_column
    owner = entity.column(column)
    statement = sa.select(*entity.columns).where(owner.in_(request.ids)).with_for_update()
    plan = plan_values(kind, column, request, await rows_of(uow, statement))
    await _delete(uow, entity.model, plan.dropped)
    if plan.moved:
        await uow.execute_rows(
            sa.update(entity.model)
            .where(entity.id.in_(plan.moved))
            .values({column: request.survivor_id, "is_primary": entity.id == plan.new_primary})
            .execution_options(synchronize_session=False)
        )
    return Moved(name, plan.moved, plan.dropped)


async def move_owners(uow: UnitOfWork, merge: MergeKind, request: MergeRequest) -> Moved:
    """One owner row per user on the survivor, with the strongest role they held."""
    entity, column = merge.owners.entity, merge.owners.parent_column
    statement = (
        sa.select(*entity.columns).where(entity.column(column).in_(request.ids)).with_for_update()
    )
    plan = plan_owners(column, request, await rows_of(uow, statement))
    await _delete(uow, entity.model, plan.dropped)
    for owner_id, role in {**plan.moved, **plan.raised}.items():
        values: dict[str, Any] = {"role": role}
        if owner_id in plan.moved:
            values[column] = request.survivor_id
        await uow.execute_rows(
            sa.update(entity.model)
            .where(entity.id == owner_id)
            .values(values)
            .execution_options(synchronize_session=False)
        )
    return Moved("owners", sorted(plan.moved), plan.dropped)


async def move_relationships(uow: UnitOfWork, request: MergeRequest) -> Moved:
    """Relationships re-pointed; self-relations and repeated pairs dropped (first, so that the
    moved ones never meet them in the unique index)."""
    model = CompanyRelationship
    ends = (col(model.from_company_id), col(model.to_company_id))
    statement = (
        sa.select(*record_columns(model))
        .where(sa.or_(*(end.in_(request.ids) for end in ends)))
        .order_by(col(model.id))
        .with_for_update()
    )
    plan = plan_relationships(request, await rows_of(uow, statement))
    await _delete(uow, model, plan.dropped)
    for relationship_id, (source, target) in plan.moved.items():
        await uow.execute_rows(
            sa.update(model)
            .where(col(model.id) == relationship_id)
            .values(from_company_id=source, to_company_id=target)
            .execution_options(synchronize_session=False),
            with_trashed=True,  # a relationship with a trashed company is hidden, not gone
        )
    return Moved("relationships", sorted(plan.moved), plan.dropped)


async def _delete(uow: UnitOfWork, model: Any, ids: Sequence[uuid.UUID]) -> None:
    if ids:
        await uow.execute_rows(
            sa.delete(model)
            .where(col(model.id).in_(ids))
            .execution_options(synchronize_session=False),
            with_trashed=True,
        )
