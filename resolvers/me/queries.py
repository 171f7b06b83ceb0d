"""me."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.services.members.queries import member_profile
from resolvers.context import Context
from resolvers.me.types import Me, Tenant, User


@strawberry.type
class MeQueries:
    @strawberry.field(
        description="Who is calling: the user, tenant and roles of the token (any valid token, "
        "whatever its roles)."
    )
    async def me(self, info: Info[Context, None]) -> Me:
        context = info.context
        profile = await member_profile(context.scope)
        return Me(
            user=User(**profile.user),
            tenant=Tenant(**profile.tenant),
            roles=sorted(context.principal.roles),
        )
