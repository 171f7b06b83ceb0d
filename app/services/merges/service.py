"""Merging companies or contacts into one survivor, in one unit of work (what a merge is:
rules.py; the statements that move things: moves.py).

The steps, in this order:

1. lock: the deals pointing at any of the records (in id order), then the records themselves
   (in id order), so two merges sharing a record, and a merge and a voucher link or a delete,
   always lock in the same order and never wait in a circle; a record missing (or another
   tenant's, merged away, trashed) is NOT_FOUND naming its id; the survivor's version is
   checked (CONFLICT, as a stale update);
2. the Lexware link the survivor keeps, then the field values it gets (rules.merged_values);
3. re-point what points at the merged records (trashed rows too), unite e-mails, phones,
   owners and, for companies, relationships;
4. the survivor's UPDATE (its version goes up even when no field changed: what belongs to it
   did), the check that every voucher linked to one of its deals still belongs to it
   (lexware.deal_parties), the tombstones (earlier tombstones of the merged ids now point at
   the survivor: chains stay one step long), and the merged rows' DELETE;
5. one event, `crm.<entity>.merged`, about the survivor: the merged ids, the survivor's
   changed fields and what moved. The rows re-pointed get no event of their own: a listener
   applies one event (point every id of `moved` at the survivor, forget the merged ids)
   instead of reconstructing a merge from hundreds of updates.

A dry run runs the very same steps in a unit of work that is rolled back instead of committed
(TenantScope.rehearsing): the preview is what the merge would do, and nothing is written,
stored as an event or left as a tombstone.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlmodel import col

from app.data import records, row_statements
from app.data.changes import camel, jsonable
from app.data.tenancy import TenantScope
from app.data.unit_of_work import UnitOfWork
from app.errors import Conflict
from app.services.contact_info.rules import EMAILS, PHONES
from app.services.lexware.deal_parties import check_link_change
from app.services.merges import moves
from app.services.merges.rules import (
    LEXWARE_BASE,
    LEXWARE_LINK,
    VALUE_KINDS,
    MergeKind,
    MergeOutcome,
    MergeRequest,
    Moved,
    check_request,
    lexware_source,
    merged_values,
    not_found,
)
from models import MergedRecord

_ERRORS = (EMAILS.entity.constraint_errors, PHONES.entity.constraint_errors)


async def merge(scope: TenantScope, kind: MergeKind, request: MergeRequest) -> MergeOutcome:
    """Merge `request.merged_ids` into the survivor, or (dry run) say what that would do."""
    check_request(kind, request)
    with records.constraint_errors(kind.entity.constraint_errors, *_ERRORS):
        if request.dry_run:
            async with scope.rehearsing() as uow:
                return await _merge_in(uow, kind, request)
        async with scope.writing() as uow:
            outcome = await _merge_in(uow, kind, request)
            uow.record(kind.event_type(), kind.name, request.survivor_id, outcome.event())
        return outcome


async def _merge_in(uow: UnitOfWork, kind: MergeKind, request: MergeRequest) -> MergeOutcome:
    await moves.lock_pointers(uow, kind.pointers[0], request.ids)
    rows = await _lock_records(uow, kind, request)
    survivor = rows[request.survivor_id]
    records.check_version(kind.entity, survivor, request.expected_version)
    values, unlinked = await _lexware_values(uow, kind, request, rows)
    values.update(merged_values(kind, request, rows))
    moved = [await moves.repoint(uow, pointer, request) for pointer in kind.pointers]
    moved.append(await moves.deal_voucher_links(uow, moved[0].moved))
    if kind.relationships:
        moved.append(await moves.move_relationships(uow, request))
    for value_kind, name in VALUE_KINDS:
        moved.append(await moves.move_values(uow, value_kind, name, kind, request))
    moved.append(await moves.move_owners(uow, kind, request))
    row = await _update_survivor(uow, kind, request.survivor_id, values)
    await check_link_change(uow, kind.name, row.id, row.lexware_contact_id)
    await _leave_tombstones(uow, kind, request)
    await _delete_merged(uow, kind, request)
    return MergeOutcome(
        survivor=row,
        merged=tuple(rows[i] for i in request.merged_ids),
        changed=_changed(kind, survivor, row, values),
        moved=tuple(moved),
        lexware_unlinked=unlinked,
        dry_run=request.dry_run,
    )


async def _lock_records(
    uow: UnitOfWork, kind: MergeKind, request: MergeRequest
) -> dict[uuid.UUID, Row[Any]]:
    """The records, locked in id order, as they are now (after any change that committed
    while this waited); NOT_FOUND naming the first id not found."""
    entity = kind.entity
    statement = (
        sa.select(*entity.columns)
        .where(entity.id.in_(request.ids))
        .order_by(entity.id)
        .with_for_update()
    )
    found = {row.id: row for row in await uow.execute_rows(statement)}
    for record_id in request.ids:
        if record_id not in found:
            raise not_found(kind, record_id)
    return found


async def _lexware_values(
    uow: UnitOfWork, kind: MergeKind, request: MergeRequest, rows: dict[uuid.UUID, Row[Any]]
) -> tuple[dict[str, Any], tuple[uuid.UUID, ...]]:
    """The survivor's Lexware link (with its sync bookkeeping) when it comes from a merged
    record, and the Lexware contacts left unlinked. The merged records' links are cleared
    first: one Lexware contact links to one record (a unique index)."""
    source = lexware_source(kind, request, rows)
    kept = rows[source].lexware_contact_id
    unlinked = {rows[i].lexware_contact_id for i in request.ids} - {None, kept}
    if source == request.survivor_id:
        values: dict[str, Any] = {}
    else:
        base = await _lexware_base(uow, kind, source)
        values = {name: getattr(rows[source], name) for name in LEXWARE_LINK}
        values[LEXWARE_BASE] = base
    if any(rows[i].lexware_contact_id is not None for i in request.merged_ids):
        model = kind.entity.model
        await uow.execute_rows(
            sa.update(model)
            .where(col(model.id).in_(request.merged_ids))
            .values(lexware_contact_id=None)
            .execution_options(synchronize_session=False)
        )
    return values, tuple(sorted(unlinked))


async def _lexware_base(uow: UnitOfWork, kind: MergeKind, record_id: uuid.UUID) -> Any:
    model = kind.entity.model
    statement = sa.select(col(getattr(model, LEXWARE_BASE))).where(col(model.id) == record_id)
    return (await uow.execute_rows(statement)).scalar_one()


async def _update_survivor(
    uow: UnitOfWork, kind: MergeKind, survivor_id: uuid.UUID, values: dict[str, Any]
) -> Row[Any]:
    """The survivor's new values; its version goes up in any case."""
    statement, parameters = row_statements.update_for(
        kind.entity, survivor_id, values, bump_version=True, with_old=False
    )
    return (await uow.execute_rows(statement, parameters)).one()


async def _leave_tombstones(uow: UnitOfWork, kind: MergeKind, request: MergeRequest) -> None:
    """A tombstone per merged id; the merged records' own tombstones follow to the survivor."""
    model = MergedRecord
    await uow.execute_rows(
        sa.update(model)
        .where(col(model.entity) == kind.name, col(model.survivor_id).in_(request.merged_ids))
        .values(survivor_id=request.survivor_id)
        .execution_options(synchronize_session=False)
    )
    rows = [
        _owned(uow, merged_id=merged, entity=kind.name, survivor_id=request.survivor_id)
        for merged in request.merged_ids
    ]
    await uow.execute_rows(sa.insert(model).values(rows))


def _owned(uow: UnitOfWork, **values: Any) -> dict[str, Any]:
    return {**values, "tenant_id": uow.tenant_id, "merged_by": uow.actor_id}


async def _delete_merged(uow: UnitOfWork, kind: MergeKind, request: MergeRequest) -> None:
    """The merged rows go: nothing points at them any more, and a tombstone keeps their id."""
    model = kind.entity.model
    deleted = await uow.execute_rows(
        sa.delete(model)
        .where(col(model.id).in_(request.merged_ids))
        .returning(col(model.id))
        .execution_options(synchronize_session=False)
    )
    if len(deleted.all()) != len(request.merged_ids):  # pragma: no cover - they are locked
        raise Conflict("A merged record changed during the merge; try again.")


def _changed(
    kind: MergeKind, old: Row[Any], new: Row[Any], values: dict[str, Any]
) -> dict[str, Any]:
    """The survivor's changed fields as events show them (camelCase: [old, new]), without the
    Lexware bookkeeping an update's event hides too."""
    tracked = kind.entity.tracked
    hidden = tracked.hidden if tracked is not None else frozenset()
    return {
        camel(name): [jsonable(getattr(old, name)), jsonable(getattr(new, name))]
        for name in values
        if name not in hidden and name != LEXWARE_BASE
    }


def moved_ids(outcome: MergeOutcome, relation: str) -> list[uuid.UUID]:
    return next((m.moved for m in outcome.moved if m.relation == relation), [])


__all__ = ["MergeOutcome", "MergeRequest", "Moved", "merge", "moved_ids"]
