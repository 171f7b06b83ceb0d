"""logout."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from resolvers.context import context_of


@strawberry.type
class MeMutations:
    @strawberry.mutation(
        description="Revoke the token of this request until it expires. Returns true."
    )
    async def logout(self, info: Info[Any, Any]) -> bool:
        context = context_of(info)
        await context.authenticator.revoke(context.principal.token)
        return True
