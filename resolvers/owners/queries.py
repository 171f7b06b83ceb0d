"""users: the tenant's users for owner pickers."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.types import Info

from app.services.owners import queries
from resolvers.context import context_of
from resolvers.me.types import User
from resolvers.permissions import CanRead


@strawberry.type
class OwnerQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="The tenant's users (search by name or e-mail), for owner pickers.",
    )
    async def users(
        self, info: Info[Any, Any], search: str | None = None, first: int = 50
    ) -> list[User]:
        rows = await queries.list_users(context_of(info).scope, search, first)
        return cast(list[User], rows)
