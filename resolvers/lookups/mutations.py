"""Admin-only writes of the lookup lists."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.types import Info

from app.data.records import Entity
from app.services.lookups import rules, service
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.context import context_of
from resolvers.lookups import inputs
from resolvers.lookups.types import AccountType, Industry, RelationshipType
from resolvers.permissions import IsAdmin

ADMIN: list[Any] = [IsAdmin]


async def _create(info: Info[Any, Any], entity: Entity, data: object) -> Any:
    return await service.create_lookup(context_of(info).scope, entity, sent_fields(data))


async def _update(info: Info[Any, Any], entity: Entity, id: strawberry.ID, data: object) -> Any:
    scope = context_of(info).scope
    return await service.update_lookup(scope, entity, parse_id(id), sent_fields(data))


async def _delete(info: Info[Any, Any], entity: Entity, id: strawberry.ID) -> strawberry.ID:
    deleted = await service.delete_lookup(context_of(info).scope, entity, parse_id(id))
    return strawberry.ID(str(deleted))


@strawberry.type
class LookupMutations:
    @strawberry.mutation(permission_classes=ADMIN)
    async def create_industry(self, info: Info[Any, Any], input: inputs.IndustryInput) -> Industry:
        return cast(Industry, await _create(info, rules.INDUSTRY, input))

    @strawberry.mutation(permission_classes=ADMIN)
    async def update_industry(
        self, info: Info[Any, Any], id: strawberry.ID, input: inputs.UpdateIndustryInput
    ) -> Industry:
        return cast(Industry, await _update(info, rules.INDUSTRY, id, input))

    @strawberry.mutation(
        permission_classes=ADMIN, description="Delete; companies in it keep no industry."
    )
    async def delete_industry(self, info: Info[Any, Any], id: strawberry.ID) -> strawberry.ID:
        return await _delete(info, rules.INDUSTRY, id)

    @strawberry.mutation(permission_classes=ADMIN)
    async def create_account_type(
        self, info: Info[Any, Any], input: inputs.AccountTypeInput
    ) -> AccountType:
        return cast(AccountType, await _create(info, rules.ACCOUNT_TYPE, input))

    @strawberry.mutation(permission_classes=ADMIN)
    async def update_account_type(
        self, info: Info[Any, Any], id: strawberry.ID, input: inputs.UpdateAccountTypeInput
    ) -> AccountType:
        return cast(AccountType, await _update(info, rules.ACCOUNT_TYPE, id, input))

    @strawberry.mutation(
        permission_classes=ADMIN, description="Delete; companies of this type keep none."
    )
    async def delete_account_type(self, info: Info[Any, Any], id: strawberry.ID) -> strawberry.ID:
        return await _delete(info, rules.ACCOUNT_TYPE, id)

    @strawberry.mutation(permission_classes=ADMIN)
    async def create_relationship_type(
        self, info: Info[Any, Any], input: inputs.RelationshipTypeInput
    ) -> RelationshipType:
        return cast(RelationshipType, await _create(info, rules.RELATIONSHIP_TYPE, input))

    @strawberry.mutation(permission_classes=ADMIN)
    async def update_relationship_type(
        self, info: Info[Any, Any], id: strawberry.ID, input: inputs.UpdateRelationshipTypeInput
    ) -> RelationshipType:
        return cast(RelationshipType, await _update(info, rules.RELATIONSHIP_TYPE, id, input))

    @strawberry.mutation(
        permission_classes=ADMIN, description="Delete; refused while relationships use it."
    )
    async def delete_relationship_type(
        self, info: Info[Any, Any], id: strawberry.ID
    ) -> strawberry.ID:
        return await _delete(info, rules.RELATIONSHIP_TYPE, id)
