"""Reading the tenant's users (for an owner picker)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.data import records
from app.data.pagination import like_pattern
from app.data.tenancy import TenantScope
from app.errors import BadUserInput
from app.services.common.relation_filters import Walk, register
from app.services.members.rows import UserRow
from app.services.owners.rules import USER
from models import OwnerRole, User

MAX_USERS = 200


async def list_users(scope: TenantScope, search: str | None, first: int) -> list[UserRow]:
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
    return await records.select_rows(scope, USER, statement)


@dataclass(frozen=True)
class OwnerFilter:
    """The owners of a company, contact or deal (`Walk.table`: which owner table)."""

    user_id: uuid.UUID | None = None
    roles: tuple[OwnerRole, ...] = ()
    and_: tuple[OwnerFilter, ...] = ()
    or_: tuple[OwnerFilter, ...] | None = None
    not_: OwnerFilter | None = None


def _owner_conditions(f: OwnerFilter, walk: Walk) -> list[Any]:
    owners = walk.table
    conditions: list[Any] = []
    if f.user_id is not None:
        conditions.append(col(owners.user_id) == f.user_id)
    if f.roles:
        conditions.append(col(owners.role).in_(f.roles))
    return conditions


register(OwnerFilter, _owner_conditions, lambda _f, _walk: [])
