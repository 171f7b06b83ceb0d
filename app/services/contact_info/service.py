"""Multi-value e-mail addresses and phone numbers of companies and contacts: the writes (what
a valid value and list are: app/services/contact_info/rules.py).

Rules: typed values; exactly one primary per owner when it has any (the first becomes primary,
setting a new primary clears the old one, removing the primary promotes the oldest other);
the same value twice for one owner is refused (e-mails ignoring case).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlmodel import col

from app.data import records
from app.data.changes import jsonable
from app.data.live_links import refuse_hidden_links
from app.data.records import Entity, RowT
from app.data.tenancy import TenantScope
from app.data.unit_of_work import UnitOfWork
from app.errors import BadUserInput, Conflict, NotFound
from app.services.common.validation import validate
from app.services.contact_info.rows import ValueRow
from app.services.contact_info.rules import (
    EMAILS,
    MAX_VALUES,
    PHONES,
    ValueKind,
    ValueLists,
    ValueRowT,
)
from models import Company, Contact

_VALUE_ERRORS = (EMAILS.entity.constraint_errors, PHONES.entity.constraint_errors)


async def create_with_values(
    scope: TenantScope,
    entity: Entity[object],
    statement: Any,
    owner_column: str,
    lists: ValueLists,
    system: records.SystemChange | None = None,
    then: Callable[[UnitOfWork, Row[Any]], Awaitable[Mapping[str, Any]]] | None = None,
    links: Mapping[str, Any] | None = None,
) -> Row[Any]:
    """Insert the record and its e-mail/phone lists in one unit of work; `then` writes more
    of the new record there (its owners) and returns what the created event adds. `links`:
    the record's values, whose links must point at live records (app.data.live_links)."""
    with records.constraint_errors(entity.constraint_errors, *_VALUE_ERRORS):
        async with scope.writing() as uow:
            if links:
                await refuse_hidden_links(uow, entity.model, links)
            row = (await uow.execute_rows(statement)).one()
            changed = await _replace_lists(uow, scope, {owner_column: row.id}, lists)
            listed = {name: [None, after] for name, (_before, after) in changed.items()}
            if then is not None:
                listed.update(await then(uow, row))
            if system is not None:
                await system.complete(uow, entity, row)
            records.record_created(uow, entity, row, listed)
            if system is not None:
                system.record(uow, entity, row)
    return row


async def update_with_values(
    scope: TenantScope,
    entity: Entity[RowT],
    owner_column: str,
    row_id: uuid.UUID,
    values: Mapping[str, Any],
    lists: ValueLists,
    expected_version: int | None = None,
    system: records.SystemChange | None = None,
) -> RowT:
    """Change the record's values and replace the e-mail/phone lists sent, in one unit of
    work (the lists' changes are part of the update event); `system`: what the system sets
    and records beside the user's change."""
    steps = _list_steps(scope, owner_column, lists)
    if system is not None:
        values = {**values, **system.values}
        steps = system.steps(entity, steps)
    return await records.update_row(scope, entity, row_id, values, expected_version, steps=steps)


def _list_steps(
    scope: TenantScope, owner_column: str, lists: ValueLists
) -> records.UpdateSteps | None:
    """An update's extra step that replaces the lists sent (and reports them as changes)."""
    if not lists:
        return None

    async def replace(uow: UnitOfWork, row: Row[Any]) -> dict[str, Any]:
        return await _replace_lists(uow, scope, {owner_column: row.id}, lists)

    return records.UpdateSteps(then=replace, errors=_VALUE_ERRORS)


async def _replace_lists(
    uow: UnitOfWork, scope: TenantScope, owner: Mapping[str, uuid.UUID], lists: ValueLists
) -> dict[str, Any]:
    changed: dict[str, Any] = {}
    for kind, values in lists:
        before = _listed(kind, await replace_all(uow, scope, kind, owner, values))
        after = _listed(kind, values)
        if before != after:
            changed[kind.field] = [before, after]
    return changed


def _listed(kind: ValueKind[ValueRow], values: Sequence[Any]) -> list[dict[str, Any]]:
    """A value list as events show it: value, type and primary flag, primary first."""
    items = [v if isinstance(v, Mapping) else v._mapping for v in values]
    listed = [
        {kind.value: v[kind.value], "type": jsonable(v["type"]), "isPrimary": v["is_primary"]}
        for v in items
    ]
    return sorted(listed, key=lambda item: (not item["isPrimary"], item[kind.value]))


async def replace_all(
    uow: UnitOfWork,
    scope: TenantScope,
    kind: ValueKind[ValueRow],
    owner: Mapping[str, uuid.UUID],
    values: list[dict[str, Any]],
) -> list[Row[Any]]:
    """Inside the owner's unit of work: the stored list becomes exactly `values`; returns the
    values it replaced."""
    model = kind.entity.model
    [(owner_column, owner_id)] = owner.items()
    removed = await uow.execute_rows(
        sa.delete(model)
        .where(kind.entity.column(owner_column) == owner_id)
        .returning(*kind.entity.columns)
        .execution_options(synchronize_session=False),
    )
    old = list(removed)
    if values:
        await uow.execute(sa.insert(model), [scope.owned(**owner, **value) for value in values])
    return old


async def add_value(
    scope: TenantScope,
    kind: ValueKind[ValueRowT],
    owner: Mapping[str, uuid.UUID],
    data: Mapping[str, Any],
) -> ValueRowT:
    """Add one value; the first of an owner, or one sent as primary, becomes the primary."""
    value = validate(kind.input, data).model_dump()
    [(owner_column, owner_id)] = owner.items()
    with records.constraint_errors(kind.entity.constraint_errors):
        async with scope.writing() as uow:
            await _lock_owner(uow, owner_column, owner_id)
            stored = await _values_of(uow, kind, owner_column, owner_id)
            _check_addable(kind, stored, value)
            if value["is_primary"] and stored:
                await _clear_primary(uow, kind, kind.entity.column(owner_column) == owner_id)
            value["is_primary"] = value["is_primary"] or not any(v.is_primary for v in stored)
            insert = sa.insert(kind.entity.model).returning(*kind.entity.columns)
            row = (await uow.execute(insert, [scope.owned(**owner, **value)])).one()
            await _record_list_change(uow, kind, row, stored)
            return records.row_of_entity(kind.entity, row)


def _check_addable(
    kind: ValueKind[ValueRow], stored: Sequence[ValueRow], value: Mapping[str, Any]
) -> None:
    if len(stored) >= MAX_VALUES:
        raise BadUserInput.single(kind.field, f"at most {MAX_VALUES} entries")
    new = kind.same(value[kind.value])
    if any(kind.same(getattr(row, kind.value)) == new for row in stored):
        raise Conflict(f"This {kind.entity.label.lower()} is already stored for this record.")


async def set_primary(
    scope: TenantScope, kind: ValueKind[ValueRowT], value_id: uuid.UUID
) -> ValueRowT:
    with records.constraint_errors(kind.entity.constraint_errors):
        async with scope.writing() as uow:
            row = await _owned_row(uow, kind, value_id)
            before = await _values_of(uow, kind, *_owner_of(row))
            await _clear_primary(uow, kind, _owner_filter(kind, row))
            await uow.execute_rows(
                sa.update(kind.entity.model)
                .where(kind.entity.id == value_id)
                .values(is_primary=True)
                .execution_options(synchronize_session=False),
            )
            await _record_list_change(uow, kind, row, before)
    return await records.get_row(scope, kind.entity, value_id)


async def remove_value(
    scope: TenantScope, kind: ValueKind[ValueRowT], value_id: uuid.UUID
) -> ValueRowT:
    """Remove one value; if it was the primary, the oldest remaining one takes its place.
    Returns the value as it was (its record's id says whose list changed)."""
    async with scope.writing() as uow:
        row = await _owned_row(uow, kind, value_id)
        before = await _values_of(uow, kind, *_owner_of(row))
        await uow.execute_rows(
            sa.delete(kind.entity.model)
            .where(kind.entity.id == value_id)
            .execution_options(synchronize_session=False),
        )
        if row.is_primary:
            oldest = (
                sa.select(kind.entity.id)
                .where(_owner_filter(kind, row))
                .order_by(kind.entity.column("created_at"), kind.entity.id)
                .limit(1)
                .scalar_subquery()
            )
            await uow.execute_rows(
                sa.update(kind.entity.model)
                .where(kind.entity.id == oldest)
                .values(is_primary=True)
                .execution_options(synchronize_session=False),
            )
        await _record_list_change(uow, kind, row, before)
    return records.row_of_entity(kind.entity, row)


async def _record_list_change(
    uow: UnitOfWork, kind: ValueKind[ValueRow], value: Row[Any], before: Sequence[ValueRow]
) -> None:
    """The owner's update event for a change of one of its values: the list before and after."""
    owner_column, owner_id = _owner_of(value)
    old = _listed(kind, before)
    new = _listed(kind, await _values_of(uow, kind, owner_column, owner_id))
    if old != new:
        entity = owner_column.removesuffix("_id")
        uow.record(f"crm.{entity}.updated", entity, owner_id, {kind.field: [old, new]})


def _owner_of(value: Row[Any]) -> tuple[str, uuid.UUID]:
    if value.contact_id is not None:
        return "contact_id", value.contact_id
    return "company_id", value.company_id


_OWNERS: dict[str, tuple[Any, str]] = {
    "contact_id": (Contact, "Contact"),
    "company_id": (Company, "Company"),
}


async def _lock_owner(uow: UnitOfWork, owner_column: str, owner_id: uuid.UUID) -> None:
    """Serialize every change to one owner's values (one primary, no duplicates) on its row."""
    model, label = _OWNERS[owner_column]
    statement = sa.select(col(model.id)).where(col(model.id) == owner_id).with_for_update()
    if (await uow.execute_rows(statement)).first() is None:
        raise NotFound(label)


async def _values_of(
    uow: UnitOfWork, kind: ValueKind[ValueRow], owner_column: str, owner_id: uuid.UUID
) -> list[Row[Any]]:
    statement = sa.select(*kind.entity.columns).where(kind.entity.column(owner_column) == owner_id)
    return list(await uow.execute_rows(statement))


async def _owned_row(uow: UnitOfWork, kind: ValueKind[ValueRow], value_id: uuid.UUID) -> Row[Any]:
    """The value, read after its owner is locked (owner first, always: no lock-order cycles)."""
    found = await _row(uow, kind, value_id, lock=False)
    await _lock_owner(uow, *_owner_of(found))
    return await _row(uow, kind, value_id, lock=True)


async def _row(
    uow: UnitOfWork, kind: ValueKind[ValueRow], value_id: uuid.UUID, *, lock: bool
) -> Row[Any]:
    statement = sa.select(*kind.entity.columns).where(kind.entity.id == value_id)
    if lock:
        statement = statement.with_for_update()
    row = (await uow.execute_rows(statement)).first()
    if row is None:
        raise NotFound(kind.entity.label)
    return row


def _owner_filter(kind: ValueKind[ValueRow], row: ValueRow) -> Any:
    if row.contact_id is not None:
        return kind.entity.column("contact_id") == row.contact_id
    return kind.entity.column("company_id") == row.company_id


async def _clear_primary(uow: UnitOfWork, kind: ValueKind[ValueRow], owner_filter: Any) -> None:
    await uow.execute_rows(
        sa.update(kind.entity.model)
        .where(owner_filter, kind.entity.column("is_primary"))
        .values(is_primary=False)
        .execution_options(synchronize_session=False),
    )
