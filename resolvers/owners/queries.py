"""users: the tenant's users for owner pickers."""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.types import Info

from app.services.owners import service
from resolvers.context import Context
from resolvers.me.types import User
from resolvers.permissions import CanRead


@strawberry.type
class OwnerQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="The tenant's users (search by name or e-mail), for owner pickers.",
    )
    async def users(
        self, info: Info[Context, None], search: str | None = None, first: int = 50
    ) -> list[User]:
        rows = await service.list_users(info.context.scope, search, first)
        return cast(list[User], rows)
