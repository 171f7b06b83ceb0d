"""Admin-only writes of the lookup lists."""

from __future__ import annotations

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from app.data.records import Entity
from app.services.lookups import rules, service
from app.services.lookups.rows import (
    AccountTypeRow,
    IndustryRow,
    LookupRow,
    LookupT,
    RelationshipTypeRow,
)
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.context import Context
from resolvers.lookups import inputs
from resolvers.lookups.types import AccountType, Industry, RelationshipType
from resolvers.permissions import IsAdmin

ADMIN: list[type[BasePermission]] = [IsAdmin]


async def _create(info: Info[Context, None], entity: Entity[LookupT], data: object) -> LookupT:
    return await service.create_lookup(info.context.scope, entity, sent_fields(data))


async def _update(
    info: Info[Context, None], entity: Entity[LookupT], id: strawberry.ID, data: object
) -> LookupT:
    scope = info.context.scope
    return await service.update_lookup(scope, entity, parse_id(id), sent_fields(data))


async def _delete(
    info: Info[Context, None], entity: Entity[LookupRow], id: strawberry.ID
) -> strawberry.ID:
    deleted = await service.delete_lookup(info.context.scope, entity, parse_id(id))
    return strawberry.ID(str(deleted))


@strawberry.type
class LookupMutations:
    @strawberry.mutation(permission_classes=ADMIN, graphql_type=Industry)
    async def create_industry(
        self, info: Info[Context, None], input: inputs.IndustryInput
    ) -> IndustryRow:
        return await _create(info, rules.INDUSTRY, input)

    @strawberry.mutation(permission_classes=ADMIN, graphql_type=Industry)
    async def update_industry(
        self, info: Info[Context, None], id: strawberry.ID, input: inputs.UpdateIndustryInput
    ) -> IndustryRow:
        return await _update(info, rules.INDUSTRY, id, input)

    @strawberry.mutation(
        permission_classes=ADMIN, description="Delete; companies in it keep no industry."
    )
    async def delete_industry(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        return await _delete(info, rules.INDUSTRY, id)

    @strawberry.mutation(permission_classes=ADMIN, graphql_type=AccountType)
    async def create_account_type(
        self, info: Info[Context, None], input: inputs.AccountTypeInput
    ) -> AccountTypeRow:
        return await _create(info, rules.ACCOUNT_TYPE, input)

    @strawberry.mutation(permission_classes=ADMIN, graphql_type=AccountType)
    async def update_account_type(
        self, info: Info[Context, None], id: strawberry.ID, input: inputs.UpdateAccountTypeInput
    ) -> AccountTypeRow:
        return await _update(info, rules.ACCOUNT_TYPE, id, input)

    @strawberry.mutation(
        permission_classes=ADMIN, description="Delete; companies of this type keep none."
    )
    async def delete_account_type(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> strawberry.ID:
        return await _delete(info, rules.ACCOUNT_TYPE, id)

    @strawberry.mutation(permission_classes=ADMIN, graphql_type=RelationshipType)
    async def create_relationship_type(
        self, info: Info[Context, None], input: inputs.RelationshipTypeInput
    ) -> RelationshipTypeRow:
        return await _create(info, rules.RELATIONSHIP_TYPE, input)

    @strawberry.mutation(permission_classes=ADMIN, graphql_type=RelationshipType)
    async def update_relationship_type(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        input: inputs.UpdateRelationshipTypeInput,
    ) -> RelationshipTypeRow:
        return await _update(info, rules.RELATIONSHIP_TYPE, id, input)

    @strawberry.mutation(
        permission_classes=ADMIN, description="Delete; refused while relationships use it."
    )
    async def delete_relationship_type(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> strawberry.ID:
        return await _delete(info, rules.RELATIONSHIP_TYPE, id)
