"""Owners of companies, contacts and deals: a new record's first owners (written in its own
unit of work and listed in its created event), adding one (an existing owner gets the new role:
upsert) and removing one. The user must belong to the caller's tenant: the composite foreign
keys make any other user id NOT_FOUND (reads: queries.py; the owner tables and rules:
rules.py)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row

from app.data import records
from app.data.live_links import refuse_hidden_links
from app.data.tenancy import TenantScope
from app.data.unit_of_work import UnitOfWork
from app.services.owners.rows import OwnerRow
from app.services.owners.rules import OwnerInput, OwnerKind, initial_owners, listed_owners
from models import OwnerRole


async def insert_owners(
    uow: UnitOfWork,
    scope: TenantScope,
    kind: OwnerKind,
    parent_id: uuid.UUID,
    owners: list[OwnerInput],
) -> dict[str, Any]:
    """A new record's owners, in its unit of work (a user of another tenant or none: the
    foreign key, NOT_FOUND User); returns what its created event lists."""
    if owners:
        rows = [
            scope.owned(**{kind.parent_column: parent_id}, user_id=o.user_id, role=o.role)
            for o in owners
        ]
        await uow.execute_rows(sa.insert(kind.entity.model).values(rows))
    return listed_owners(owners)


def new_record_owners(
    scope: TenantScope, kind: OwnerKind, named: list[OwnerInput] | None
) -> Callable[[UnitOfWork, Row[Any]], Awaitable[dict[str, Any]]]:
    """The step of a create that adds the new record's initial owners."""
    owners = initial_owners(scope, named)

    async def add(uow: UnitOfWork, row: Row[Any]) -> dict[str, Any]:
        return await insert_owners(uow, scope, kind, row.id, owners)

    return add


async def add_owner(
    scope: TenantScope,
    kind: OwnerKind,
    parent_id: uuid.UUID,
    user_id: uuid.UUID,
    role: OwnerRole = OwnerRole.OWNER,
) -> OwnerRow:
    """Make the user an owner with this role, or change their role if they are one."""
    entity = kind.entity
    match = (entity.column(kind.parent_column) == parent_id, entity.column("user_id") == user_id)
    statement = (
        pg_insert(entity.model)
        .values(scope.owned(**{kind.parent_column: parent_id, "user_id": user_id, "role": role}))
        .on_conflict_do_update(
            index_elements=["tenant_id", kind.parent_column, "user_id"],
            set_={"role": role, "updated_at": sa.func.now()},
        )
        .returning(*entity.columns)
    )
    with records.constraint_errors(entity.constraint_errors):
        async with scope.writing() as uow:
            # A record in the trash is NOT_FOUND as a missing one is (its foreign key holds).
            await refuse_hidden_links(uow, entity.model, {kind.parent_column: parent_id})
            current = sa.select(*entity.columns).where(*match).with_for_update()
            before = (await uow.execute_rows(current)).first()
            row = (await uow.execute_rows(statement)).one()
            if before is None:
                records.record_created(uow, entity, row)
            else:
                records.record_updated(uow, entity, before, row)
    return row


async def remove_owner(
    scope: TenantScope, kind: OwnerKind, parent_id: uuid.UUID, user_id: uuid.UUID
) -> uuid.UUID:
    entity = kind.entity
    statement = (
        sa.delete(entity.model)
        .where(entity.column(kind.parent_column) == parent_id, entity.column("user_id") == user_id)
        .returning(*entity.columns)
        .execution_options(synchronize_session=False)
    )
    row = await records.write_one(
        scope,
        entity,
        statement,
        lambda s, row: records.record_deleted(s, entity, row),
        links={kind.parent_column: parent_id},  # not of a record in the trash
    )
    return uuid.UUID(str(row.id))
