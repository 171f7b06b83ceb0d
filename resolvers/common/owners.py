"""Adding and removing an owner of a company, contact or deal: what the owner mutations of the
three domains share."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.types import Info

from app.services.owners import rules, service
from models.enums import OwnerRole
from resolvers.common.inputs import parse_id
from resolvers.context import context_of
from resolvers.owners.types import Owner


async def add(
    info: Info[Any, Any],
    kind: rules.OwnerKind,
    parent: strawberry.ID,
    user: strawberry.ID,
    role: OwnerRole,
    parent_field: str,
) -> Owner:
    scope = context_of(info).scope
    row = await service.add_owner(
        scope, kind, parse_id(parent, parent_field), parse_id(user, "userId"), role
    )
    return cast(Owner, row)


async def remove(
    info: Info[Any, Any],
    kind: rules.OwnerKind,
    parent: strawberry.ID,
    user: strawberry.ID,
    parent_field: str,
) -> bool:
    scope = context_of(info).scope
    await service.remove_owner(
        scope, kind, parse_id(parent, parent_field), parse_id(user, "userId")
    )
    return True
