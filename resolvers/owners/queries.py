"""users: the tenant's users for owner pickers."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.services.members.rows import UserRow
from app.services.owners import queries
from resolvers.context import Context
from resolvers.me.types import User
from resolvers.permissions import CanRead


@strawberry.type
class OwnerQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="The tenant's users (search by name or e-mail), for owner pickers.",
        graphql_type=list[User],
    )
    async def users(
        self, info: Info[Context, None], search: str | None = None, first: int = 50
    ) -> list[UserRow]:
        return await queries.list_users(info.context.scope, search, first)
