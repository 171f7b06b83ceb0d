"""Row factories for tests that work below the GraphQL layer (through the tenant scope)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.data.tenancy import TenantScope
from app.services.members.rules import MemberIdentity
from app.services.members.service import MemberDirectory


async def new_scope(sessions: async_sessionmaker[AsyncSession]) -> TenantScope:
    """A fresh tenant with one member, as a scope."""
    slug = f"m-{uuid.uuid4().hex[:10]}"
    ids = await MemberDirectory(sessions).resolve(MemberIdentity(slug, "u", "u@x.de", None))
    return TenantScope(ids.tenant_id, ids.user_id, sessions)


async def add_row(scope: TenantScope, model: Any, **values: Any) -> uuid.UUID:
    row_id = uuid.uuid4()
    async with scope.writing() as session:
        await session.execute(sa.insert(model).values(scope.owned(id=row_id, **values)))
    return row_id


async def row_value(scope: TenantScope, column: Any, row_id: uuid.UUID) -> Any:
    table = column.class_
    async with scope.reading() as session:
        return (await session.execute(sa.select(column).where(table.id == row_id))).scalar_one()


async def row_exists(scope: TenantScope, model: Any, row_id: uuid.UUID) -> bool:
    async with scope.reading() as session:
        found = await session.execute(sa.select(col(model.id)).where(col(model.id) == row_id))
        return found.first() is not None


def nodes(connection: dict[str, Any]) -> list[Any]:
    """The nodes of a connection's edges (a nested list: `company.contacts`, ...)."""
    return [edge["node"] for edge in connection["edges"]]
