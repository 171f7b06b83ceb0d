"""Reading the tenant's users (for an owner picker)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlmodel import col

from app.data.pagination import like_pattern
from app.data.tenancy import TenantScope
from app.errors import BadUserInput
from app.services.owners.rules import USER
from models import User

MAX_USERS = 200


async def list_users(scope: TenantScope, search: str | None, first: int) -> list[Row[Any]]:
    """The tenant's users for an owner picker, by name then e-mail."""
    if not 0 < first <= MAX_USERS:
        raise BadUserInput.single("first", f"must be between 1 and {MAX_USERS}")
    statement = sa.select(*USER.columns)
    if search:
        if len(search) > 200:
            raise BadUserInput.single("search", "must be at most 200 characters")
        pattern = like_pattern(search.strip())
        statement = statement.where(
            sa.or_(col(User.name).ilike(pattern), col(User.email).ilike(pattern))
        )
    statement = statement.order_by(
        sa.func.lower(sa.func.coalesce(col(User.name), col(User.email))), USER.id
    ).limit(first)
    async with scope.reading() as reads:
        return list(await reads.execute_rows(statement))
