"""logout."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers.context import Context


@strawberry.type
class MeMutations:
    @strawberry.mutation(
        description="Sign out: the token of this request is refused (UNAUTHENTICATED) from now "
        "until it expires, on every server (stored in PostgreSQL). A token without a jti claim "
        "cannot be revoked: BAD_USER_INPUT. Returns true."
    )
    async def logout(self, info: Info[Context, None]) -> bool:
        context = info.context
        await context.authenticator.revoke(context.principal.token)
        return True
