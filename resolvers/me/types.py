"""The caller: user, tenant and roles."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.nodes.types import Node


@strawberry.type(
    description="A member of the tenant: signed in at least once, or added by an admin "
    "(addUser) and waiting for their first sign-in."
)
class User(Node):
    id: strawberry.ID
    email: str | None
    name: str | None
    signed_in_at: datetime | None = strawberry.field(
        description="The user's first sign-in; null: added by an admin and not signed in yet "
        "(already assignable as owner)."
    )


@strawberry.type(description="The organisation whose data the caller works in.")
class Tenant:
    id: strawberry.ID
    slug: str
    name: str


@strawberry.type(description="Who is calling: user, tenant and roles from the token.")
class Me:
    user: User
    tenant: Tenant
    roles: list[str]
