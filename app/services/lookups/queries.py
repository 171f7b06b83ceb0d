"""Reading a lookup list: the whole list (at most rules.MAX_ENTRIES), ordered by name."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from app.data.records import Entity
from app.data.tenancy import TenantScope


async def list_lookup(scope: TenantScope, entity: Entity) -> list[Row[Any]]:
    statement = sa.select(*entity.columns).order_by(sa.func.lower(entity.column("name")), entity.id)
    async with scope.reading() as reads:
        return list(await reads.execute_rows(statement))
