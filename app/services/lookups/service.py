"""Lookup lists: create (at most rules.MAX_ENTRIES per list), update and delete an entry (reads:
queries.py; the lists and their rules: rules.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from app.data import records
from app.data.records import Entity
from app.data.tenancy import TenantScope
from app.errors import BadUserInput
from app.services.common.validation import validate, validate_patch
from app.services.lookups.rows import LookupRow, LookupT
from app.services.lookups.rules import _INPUTS, _PATCHES, MAX_ENTRIES


async def create_lookup(
    scope: TenantScope, entity: Entity[LookupT], data: Mapping[str, Any]
) -> LookupT:
    values = validate(_INPUTS[entity.label], data).model_dump()
    insert = sa.insert(entity.model).values(scope.owned(**values)).returning(*entity.columns)
    count = sa.select(sa.func.count()).select_from(entity.model)
    with records.constraint_errors(entity.constraint_errors):
        async with scope.writing() as uow:
            # One creator of a tenant's list at a time, so two cannot both take the last place.
            await uow.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": f"crm:lookups:{entity.label}:{scope.tenant_id}"},
            )
            if (await uow.execute_rows(count)).scalar_one() >= MAX_ENTRIES:
                raise BadUserInput.single(
                    "name", f"a list holds at most {MAX_ENTRIES} entries; delete unused ones"
                )
            row = (await uow.execute_rows(insert)).one()
            records.record_created(uow, entity, row)
    return records.row_of_entity(entity, row)


async def update_lookup(
    scope: TenantScope, entity: Entity[LookupT], row_id: uuid.UUID, data: Mapping[str, Any]
) -> LookupT:
    patch, not_nullable = _PATCHES[entity.label]
    return await records.update_row(
        scope, entity, row_id, validate_patch(patch, not_nullable, data)
    )


async def delete_lookup(
    scope: TenantScope, entity: Entity[LookupRow], row_id: uuid.UUID
) -> uuid.UUID:
    return await records.delete_row(scope, entity, row_id)
