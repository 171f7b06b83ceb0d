"""The caller: user, tenant and roles."""

from __future__ import annotations

import strawberry


@strawberry.type(description="A member of the tenant.")
class User:
    id: strawberry.ID
    email: str | None
    name: str | None


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
