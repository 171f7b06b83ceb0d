"""The trash: restore and purge a record, the list of what can be restored, and the retention
that purges what has been in the trash too long. Moving a record there is its domain's
delete (`trash.trash_row`); the row operations are app.data.trash."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.data import trash
from app.data.pagination import Page, decode_cursor, encode_cursor
from app.data.records import Entity
from app.data.sort_keys import timestamp_key
from app.data.tenancy import TenantScope, system_session
from app.data.unit_of_work import UnitOfWork
from app.errors import Conflict
from app.services.trash.rules import PURGE_BATCH, PURGE_ORDER, TRASHABLE, TrashType
from models import Company

_ORDER = "trash"  # the cursors' list name


@dataclass(frozen=True)
class TrashedRecord:
    """A record in the trash: its kind, its row (the entity's record columns), when and by
    whom it was trashed."""

    type: TrashType
    record: Row[Any]
    deleted_at: datetime
    deleted_by: uuid.UUID | None


async def restore(scope: TenantScope, kind: TrashType, row_id: uuid.UUID) -> Row[Any]:
    """The trashed record back with its links; NOT_FOUND for an id not in the trash; CONFLICT
    when it cannot come back as it was (its Lexware contact linked to another record now, a
    contract's company in the trash)."""
    entity = TRASHABLE[kind]

    async def check(uow: UnitOfWork, row: Row[Any]) -> None:
        if "lexware_contact_id" in entity.model.model_fields:
            await _lexware_link_free(uow, entity, row)
        if kind is TrashType.CONTRACT:
            await _company_not_trashed(uow, row.company_id)

    return await trash.restore_row(scope, entity, row_id, check)


async def _lexware_link_free(uow: UnitOfWork, entity: Entity[object], row: Row[Any]) -> None:
    """A trashed record keeps its Lexware link without holding it (the unique index covers
    live records): another may have taken it meanwhile."""
    link = row.lexware_contact_id
    if link is None:
        return
    holder = sa.select(entity.id).where(
        entity.column("lexware_contact_id") == link, entity.id != row.id
    )
    other = (await uow.execute_rows(holder)).scalar()
    if other is not None:
        label = entity.label.lower()
        raise Conflict(
            f"The {label} cannot be restored: its Lexware contact is linked to {label} {other} "
            f"now. Unlink it there first.",
            conflictingId=str(other),
        )


async def _company_not_trashed(uow: UnitOfWork, company_id: uuid.UUID) -> None:
    """A contract belongs to its company (hidden while the company is trashed)."""
    trashed = sa.select(col(Company.deleted_at)).where(col(Company.id) == company_id)
    if (await uow.execute_rows(trashed, with_trashed=True)).scalar() is not None:
        raise Conflict(
            f"The contract's company {company_id} is in the trash: restore the company, and "
            f"its contracts are back with it.",
            conflictingId=str(company_id),
        )


async def purge(scope: TenantScope, kind: TrashType, row_id: uuid.UUID) -> uuid.UUID:
    return await trash.purge_row(scope, TRASHABLE[kind], row_id)


def _trashed_columns(entity: Entity[object]) -> tuple[Any, Any]:
    return entity.column("deleted_at"), entity.column("deleted_by")


async def trash_page(
    scope: TenantScope, kinds: Sequence[TrashType], first: int, after: str | None
) -> Page[TrashedRecord]:
    """The tenant's trashed records of `kinds`, most recently trashed first (ties by id):
    one statement per kind, each reading its partial index of trashed rows from the
    cursor on, merged here."""
    bound = None if after is None else decode_cursor(_ORDER, _KEY, after)
    found: list[TrashedRecord] = []
    async with scope.reading() as reads:
        for kind in dict.fromkeys(kinds):
            entity = TRASHABLE[kind]
            deleted_at, deleted_by = _trashed_columns(entity)
            statement: Any = sa.select(*entity.columns, deleted_at, deleted_by).where(
                deleted_at.is_not(None)
            )
            if bound is not None:
                statement = statement.where(sa.tuple_(deleted_at, entity.id) < sa.tuple_(*bound))
            statement = statement.order_by(deleted_at.desc(), entity.id.desc()).limit(first + 1)
            for row in await reads.execute_rows(statement, with_trashed=True):
                found.append(TrashedRecord(kind, row, row.deleted_at, row.deleted_by))
    found.sort(key=lambda item: (item.deleted_at, item.record.id), reverse=True)
    rows = found[:first]
    cursors = [encode_cursor(_ORDER, item.deleted_at.isoformat(), item.record.id) for item in rows]
    return Page(rows, cursors, has_next_page=len(found) > first, has_previous_page=False)


_KEY = timestamp_key("deletedAt", None)


async def count_trash(scope: TenantScope, kinds: Sequence[TrashType]) -> int:
    """How many records of `kinds` are in the trash: one statement."""
    counts = [
        sa.select(sa.func.count())
        .select_from(TRASHABLE[kind].model)
        .where(TRASHABLE[kind].column("deleted_at").is_not(None))
        .scalar_subquery()
        for kind in dict.fromkeys(kinds)
    ]
    if not counts:
        return 0
    total = sa.select(sum(counts[1:], counts[0]))
    async with scope.reading() as reads:
        return int((await reads.execute_rows(total, with_trashed=True)).scalar_one())


async def purge_expired_trash(
    sessions: async_sessionmaker[AsyncSession], retention: timedelta, batch: int = PURGE_BATCH
) -> int:
    """The cron: every tenant's records trashed longer than `retention` ago, purged with the
    on-delete rules and their events, per tenant in units of work of at most `batch` rows.
    How many were purged."""
    before = await _now(sessions) - retention
    purged = 0
    for tenant_id in await _tenants_with_expired_trash(sessions, before):
        scope = TenantScope(tenant_id, None, sessions)
        for kind in PURGE_ORDER:
            purged += await _purge_kind(scope, TRASHABLE[kind], before, batch)
    return purged


async def _purge_kind(
    scope: TenantScope, entity: Entity[object], before: datetime, batch: int
) -> int:
    purged = 0
    while True:
        async with scope.writing() as uow:
            expired = await trash.expired_ids(uow, entity, before, batch)
            if expired:
                purged += len(await trash.purge_in(uow, entity, expired))
        if len(expired) < batch:
            return purged


async def _now(sessions: async_sessionmaker[AsyncSession]) -> datetime:
    """The database's clock: `deleted_at` is its `now()`, so the cut-off is measured on it."""
    async with system_session(sessions) as session:
        now: datetime = (await session.execute(sa.select(sa.func.now()))).scalar_one()
    return now


async def _tenants_with_expired_trash(
    sessions: async_sessionmaker[AsyncSession], before: datetime
) -> list[uuid.UUID]:
    """Across tenants (as `crm_system`): those with a record trashed before `before`."""
    branches = [
        sa.select(col(entity.model.tenant_id)).where(
            entity.column("deleted_at").is_not(None), entity.column("deleted_at") < before
        )
        for entity in TRASHABLE.values()
    ]
    statement = sa.union(*branches)
    async with system_session(sessions) as session:
        return list((await session.execute(statement)).scalars())
