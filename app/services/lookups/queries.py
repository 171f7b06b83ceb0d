"""Reading a lookup list: the whole list (at most rules.MAX_ENTRIES), ordered by name."""

from __future__ import annotations

import sqlalchemy as sa

from app.data import records
from app.data.records import Entity
from app.data.tenancy import TenantScope
from app.services.lookups.rows import LookupT


async def list_lookup(scope: TenantScope, entity: Entity[LookupT]) -> list[LookupT]:
    statement = sa.select(*entity.columns).order_by(sa.func.lower(entity.column("name")), entity.id)
    return await records.select_rows(scope, entity, statement)
