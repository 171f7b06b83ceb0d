"""add/remove owners of companies and contacts (deals get theirs with the deal module)."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.types import Info

from app.services import owners as service
from models.enums import OwnerRole
from resolvers.common.inputs import parse_id
from resolvers.context import context_of
from resolvers.owners.types import Owner
from resolvers.permissions import CanWrite

WRITE: list[Any] = [CanWrite]


async def add(
    info: Info[Any, Any],
    kind: service.OwnerKind,
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
    kind: service.OwnerKind,
    parent: strawberry.ID,
    user: strawberry.ID,
    parent_field: str,
) -> bool:
    scope = context_of(info).scope
    await service.remove_owner(
        scope, kind, parse_id(parent, parent_field), parse_id(user, "userId")
    )
    return True


@strawberry.type
class OwnerMutations:
    @strawberry.mutation(
        permission_classes=WRITE, description="Add an owner, or change the role of an existing one."
    )
    async def add_company_owner(
        self,
        info: Info[Any, Any],
        company_id: strawberry.ID,
        user_id: strawberry.ID,
        role: OwnerRole = OwnerRole.OWNER,
    ) -> Owner:
        return await add(info, service.COMPANY_OWNERS, company_id, user_id, role, "companyId")

    @strawberry.mutation(permission_classes=WRITE)
    async def remove_company_owner(
        self, info: Info[Any, Any], company_id: strawberry.ID, user_id: strawberry.ID
    ) -> bool:
        return await remove(info, service.COMPANY_OWNERS, company_id, user_id, "companyId")

    @strawberry.mutation(
        permission_classes=WRITE, description="Add an owner, or change the role of an existing one."
    )
    async def add_contact_owner(
        self,
        info: Info[Any, Any],
        contact_id: strawberry.ID,
        user_id: strawberry.ID,
        role: OwnerRole = OwnerRole.OWNER,
    ) -> Owner:
        return await add(info, service.CONTACT_OWNERS, contact_id, user_id, role, "contactId")

    @strawberry.mutation(permission_classes=WRITE)
    async def remove_contact_owner(
        self, info: Info[Any, Any], contact_id: strawberry.ID, user_id: strawberry.ID
    ) -> bool:
        return await remove(info, service.CONTACT_OWNERS, contact_id, user_id, "contactId")
