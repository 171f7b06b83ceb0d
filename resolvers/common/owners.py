"""Adding and removing an owner of a company, contact or deal: what the owner mutations of the
three domains share."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.services.owners import rules, service
from app.services.owners.rows import OwnerRow
from models.enums import OwnerRole
from resolvers.common.inputs import parse_id
from resolvers.context import Context


async def add(
    info: Info[Context, None],
    kind: rules.OwnerKind,
    parent: strawberry.ID,
    user: strawberry.ID,
    role: OwnerRole,
    parent_field: str,
) -> OwnerRow:
    scope = info.context.scope
    return await service.add_owner(
        scope, kind, parse_id(parent, parent_field), parse_id(user, "userId"), role
    )


async def remove(
    info: Info[Context, None],
    kind: rules.OwnerKind,
    parent: strawberry.ID,
    user: strawberry.ID,
    parent_field: str,
) -> bool:
    scope = info.context.scope
    await service.remove_owner(
        scope, kind, parse_id(parent, parent_field), parse_id(user, "userId")
    )
    return True
