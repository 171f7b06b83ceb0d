"""The trash's row operations (models.base.Trashable): move a record to the trash, restore
it, purge it for good. Reads hide trashed rows by themselves (app.data.tenant_filter); these
are the few statements that reach them (`with_trashed=True`).

- `trash_row`: `deleted_at`/`deleted_by` set (a new version), links left as they are: what
  pointed at the record still does, and reads it as null while the record is trashed.
- `restore_row`: both cleared (a new version); the links are back as they were.
- `purge_row` / `purge_expired`: the DELETE that a delete used to be, with the entity's
  dependents first (app.data.dependents: unlinked or removed, trashed ones too, each with its
  event), only of a trashed record.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlmodel import col

from app.data import changes, dependents
from app.data.records import Entity, constraint_errors
from app.data.tenancy import TenantScope
from app.data.unit_of_work import UnitOfWork
from app.errors import AppError, NotFound
from models.merges import MERGEABLE, MergedRecord

# What a restore checks in its unit of work before the row comes back (a Lexware link that
# another record holds now): raise a CONFLICT naming it.
RestoreCheck = Callable[[UnitOfWork, Row[Any]], Awaitable[None]]


class NotInTrash(NotFound):
    """restoreX of an id that is no trashed record of the tenant (live, unknown, another
    tenant's, purged): NOT_FOUND, saying where it looked."""

    def __init__(self, entity: str) -> None:
        AppError.__init__(self, f"{entity} not found in the trash.")


class TrashFirst(AppError):
    """purgeX of a live record: only what is in the trash is purged."""

    code = "NOT_IN_TRASH"

    def __init__(self, entity: str) -> None:
        name = entity.lower()
        super().__init__(
            f"{entity} is not in the trash: delete it first (it moves to the trash), then "
            f"purge it. Purging deletes only a trashed {name}."
        )


def _trashed(entity: Entity[object]) -> tuple[Any, Any]:
    return entity.column("deleted_at"), entity.column("deleted_by")


def _version(entity: Entity[object]) -> dict[str, Any]:
    return {"version": entity.column("version") + 1} if entity.versioned else {}


async def trash_row(scope: TenantScope, entity: Entity[object], row_id: uuid.UUID) -> uuid.UUID:
    """The record into the trash (NOT_FOUND if it is not live): event `crm.<entity>.deleted`
    with its values as a delete's, and who trashed it when."""
    deleted_at, deleted_by = _trashed(entity)
    statement = (
        sa.update(entity.model)
        .where(entity.id == row_id)
        .values(deleted_at=sa.func.now(), deleted_by=scope.actor_id, **_version(entity))
        .returning(*entity.columns, deleted_at, deleted_by)
        .execution_options(synchronize_session=False)
    )
    async with scope.writing() as uow:
        row = (await uow.execute_rows(statement)).first()
        if row is None:
            raise NotFound(entity.label)
        if entity.tracked is not None:
            changes.trashed(uow, entity.tracked, row)
    return uuid.UUID(str(row.id))


async def restore_row(
    scope: TenantScope,
    entity: Entity[object],
    row_id: uuid.UUID,
    check: RestoreCheck | None = None,
) -> Row[Any]:
    """The trashed record back (NOT_FOUND, "not in the trash", for any other id), with its
    links as they were: event `crm.<entity>.restored` with its values as a create's."""
    deleted_at, deleted_by = _trashed(entity)
    locked: Any = (
        sa.select(*entity.columns, deleted_at, deleted_by)
        .where(entity.id == row_id, deleted_at.is_not(None))
        .with_for_update()
    )
    restore = (
        sa.update(entity.model)
        .where(entity.id == row_id, deleted_at.is_not(None))
        .values(deleted_at=None, deleted_by=None, **_version(entity))
        .returning(*entity.columns)
        .execution_options(synchronize_session=False)
    )
    with constraint_errors(entity.constraint_errors):
        async with scope.writing() as uow:
            trashed = (await uow.execute_rows(locked, with_trashed=True)).first()
            if trashed is None:
                raise NotInTrash(entity.label)
            if check is not None:
                await check(uow, trashed)
            row = (await uow.execute_rows(restore, with_trashed=True)).one()
            if entity.tracked is not None:
                changes.restored(uow, entity.tracked, row, trashed)
    return row


async def purge_row(scope: TenantScope, entity: Entity[object], row_id: uuid.UUID) -> uuid.UUID:
    """The trashed record deleted for good with the on-delete rules (its dependents first):
    `crm.<entity>.purged`. A live record is refused (NOT_IN_TRASH), any other id NOT_FOUND."""
    deleted_at, _ = _trashed(entity)
    # NO KEY UPDATE: what a restore takes too (so the state holds), while rows that point
    # at the record (their foreign keys' KEY SHARE) are not waited for before the DELETE.
    state = sa.select(deleted_at).where(entity.id == row_id).with_for_update(key_share=True)
    async with scope.writing() as uow:
        found = (await uow.execute_rows(state, with_trashed=True)).first()
        if found is None:
            raise NotFound(entity.label)
        if found.deleted_at is None:
            raise TrashFirst(entity.label)
        await purge_in(uow, entity, [row_id])
    return row_id


async def purge_in(
    uow: UnitOfWork, entity: Entity[object], row_ids: Sequence[uuid.UUID]
) -> list[Row[Any]]:
    """Delete these trashed rows in the unit of work, dependents first (trashed ones too),
    each purged row with its `purged` event; rows no longer trashed are left alone."""
    deleted_at, _ = _trashed(entity)
    await dependents.detach(uow, entity.dependents, row_ids)
    statement = (
        sa.delete(entity.model)
        .where(entity.id.in_(row_ids), deleted_at.is_not(None))
        .returning(*entity.columns)
        .execution_options(synchronize_session=False)
    )
    purged = list(await uow.execute_rows(statement, with_trashed=True))
    await _drop_tombstones(uow, entity, [row.id for row in purged])
    if entity.tracked is not None:
        for row in purged:
            changes.purged(uow, entity.tracked, row)
    return purged


async def _drop_tombstones(
    uow: UnitOfWork, entity: Entity[object], purged: Sequence[uuid.UUID]
) -> None:
    """The ids merged into a purged record (app/services/merges) resolve to nothing any more:
    their tombstones go with it, so they answer NOT_FOUND as the record does."""
    if purged and entity.model.__tablename__ in MERGEABLE:
        survivor = col(MergedRecord.survivor_id)
        await uow.execute_rows(sa.delete(MergedRecord).where(survivor.in_(purged)))


async def expired_ids(
    uow: UnitOfWork, entity: Entity[object], before: datetime, limit: int
) -> list[uuid.UUID]:
    """The tenant's rows trashed before `before`, oldest first, at most `limit`, locked (a
    restore meanwhile waits, then finds nothing to restore; skipped if another purge holds
    them). Read by the partial index of trashed rows (models.base.trash_table_args)."""
    deleted_at, _ = _trashed(entity)
    statement = (
        sa.select(entity.id)
        .where(deleted_at.is_not(None), deleted_at < before)
        .order_by(deleted_at, entity.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = await uow.execute_rows(statement, with_trashed=True)
    return [uuid.UUID(str(row_id)) for row_id in rows.scalars()]
