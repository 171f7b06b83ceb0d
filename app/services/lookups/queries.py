"""Reading a lookup list: the whole list (at most rules.MAX_ENTRIES), ordered by name."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from app.data.records import Entity
from app.data.tenancy import TenantScope, execute_rows


async def list_lookup(scope: TenantScope, entity: Entity) -> list[Row[Any]]:
    statement = sa.select(*entity.columns).order_by(sa.func.lower(entity.column("name")), entity.id)
    async with scope.reading() as session:
        return list(await execute_rows(session, statement))
