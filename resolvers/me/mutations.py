"""logout."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers.context import Context


@strawberry.type
class MeMutations:
    @strawberry.mutation(
        description="Revoke the token of this request until it expires. Returns true."
    )
    async def logout(self, info: Info[Context, None]) -> bool:
        context = info.context
        await context.authenticator.revoke(context.principal.token)
        return True
