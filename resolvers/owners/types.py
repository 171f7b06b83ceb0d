"""Owner: a user with a role on a company, contact or deal."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, cast

import strawberry
from sqlmodel import col
from strawberry.types import Info

from app.services.owners import USER, OwnerKind
from models.enums import OwnerRole
from resolvers.common.children import NESTED_DEFAULT, children_of
from resolvers.context import context_of
from resolvers.me.types import User


async def _user(root: strawberry.Parent[Any], info: Info[Any, Any]) -> User:
    return cast(User, await context_of(info).loaders.by_id(USER).load(root.user_id))


@strawberry.type(
    description="A user responsible for (OWNER), working on (MEMBER) or following "
    "(WATCHER) a record."
)
class Owner:
    user_id: strawberry.ID
    user: User = strawberry.field(resolver=_user)
    role: OwnerRole
    created_at: datetime = strawberry.field(description="When the user became an owner.")


@functools.cache
def _ordering(model: Any) -> tuple[Any, ...]:
    return (col(model.role), col(model.created_at), col(model.id))


async def owners_of(
    info: Info[Any, Any], kind: OwnerKind, parent_id: Any, first: int = NESTED_DEFAULT
) -> list[Owner]:
    """CompanyOwnersByCompanyLoader and friends: OWNER first, then by when they were added."""
    rows = await children_of(
        info, kind.entity, kind.parent_column, parent_id, first, _ordering(kind.entity.model)
    )
    return cast(list[Owner], rows)
