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
    id: strawberry.ID = strawberry.field(
        description="The user's id in this tenant (a UUID): what owners, assignees and "
        "`ownerId` filters name."
    )
    email: str | None = strawberry.field(
        description="Their e-mail address from their token (or as an admin added it); null: "
        "their tokens carry none."
    )
    name: str | None = strawberry.field(
        description="Their name from their token (or as an admin added it); null: unknown."
    )
    signed_in_at: datetime | None = strawberry.field(
        description="The user's first sign-in; null: added by an admin and not signed in yet "
        "(already assignable as owner)."
    )


@strawberry.type(description="The organisation whose data the caller works in.")
class Tenant:
    id: strawberry.ID = strawberry.field(description="The tenant's id (a UUID).")
    slug: str = strawberry.field(
        description="The tenant's short name from the token's tenant claim, e.g. demo."
    )
    name: str = strawberry.field(
        description="The organisation's display name; the slug when the tenant was first seen."
    )


@strawberry.type(description="Who is calling: user, tenant and roles from the token.")
class Me:
    user: User = strawberry.field(description="The signed-in user.")
    tenant: Tenant = strawberry.field(description="The tenant all reads and writes are scoped to.")
    roles: list[str] = strawberry.field(
        description="The token's roles, sorted: admin (everything, lookup lists and users "
        "included), member (reads and writes CRM data), viewer (reads only)."
    )
