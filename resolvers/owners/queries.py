"""users: the tenant's users for owner pickers."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.services.members.rows import UserRow
from app.services.owners import queries
from app.services.owners.queries import MAX_USERS
from resolvers.context import Context
from resolvers.me.types import User
from resolvers.permissions import CanRead


@strawberry.type
class OwnerQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="The tenant's users by name (their e-mail without one), for owner and "
        "assignee pickers (every role); users an admin added who have not signed in yet "
        "included.",
        graphql_type=list[User],
    )
    async def users(
        self,
        info: Info[Context, None],
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Words that each match a user's name or e-mail as `search` matches "
                "(typo-tolerant, prefixes); null or blank: every user."
            ),
        ] = None,
        first: Annotated[
            int,
            strawberry.argument(
                description=f"At most this many users, 1 to {MAX_USERS} (else BAD_USER_INPUT)."
            ),
        ] = 50,
    ) -> list[UserRow]:
        return await queries.list_users(info.context.scope, search, first)
