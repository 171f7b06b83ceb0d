"""Admin-only writes of the lookup lists."""

from __future__ import annotations

from typing import Annotated

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
from resolvers.common.shared_descriptions import WriteId
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
    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Admin only: add an industry. A name the list has already (ignoring case): "
        "CONFLICT; a list holds at most 200 entries (BAD_USER_INPUT beyond).",
        graphql_type=Industry,
    )
    async def create_industry(
        self,
        info: Info[Context, None],
        input: Annotated[inputs.IndustryInput, strawberry.argument(description="The new entry.")],
    ) -> IndustryRow:
        return await _create(info, rules.INDUSTRY, input)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Admin only: rename or change an industry; a name taken: CONFLICT.",
        graphql_type=Industry,
    )
    async def update_industry(
        self,
        info: Info[Context, None],
        id: WriteId,
        input: Annotated[
            inputs.UpdateIndustryInput, strawberry.argument(description="The fields to change.")
        ],
    ) -> IndustryRow:
        return await _update(info, rules.INDUSTRY, id, input)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Admin only: delete an industry for good; its companies keep no "
        "industry. Returns its id.",
    )
    async def delete_industry(self, info: Info[Context, None], id: WriteId) -> strawberry.ID:
        return await _delete(info, rules.INDUSTRY, id)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Admin only: add an account type. A name the list has already (ignoring case): "
        "CONFLICT; a list holds at most 200 entries (BAD_USER_INPUT beyond).",
        graphql_type=AccountType,
    )
    async def create_account_type(
        self,
        info: Info[Context, None],
        input: Annotated[
            inputs.AccountTypeInput, strawberry.argument(description="The new entry.")
        ],
    ) -> AccountTypeRow:
        return await _create(info, rules.ACCOUNT_TYPE, input)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Admin only: rename or change an account type; a name taken: CONFLICT.",
        graphql_type=AccountType,
    )
    async def update_account_type(
        self,
        info: Info[Context, None],
        id: WriteId,
        input: Annotated[
            inputs.UpdateAccountTypeInput, strawberry.argument(description="The fields to change.")
        ],
    ) -> AccountTypeRow:
        return await _update(info, rules.ACCOUNT_TYPE, id, input)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Admin only: delete an account type for good; its companies keep "
        "none. Returns its id.",
    )
    async def delete_account_type(self, info: Info[Context, None], id: WriteId) -> strawberry.ID:
        return await _delete(info, rules.ACCOUNT_TYPE, id)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Admin only: add a relationship type. A name the list has already "
        "(ignoring case): CONFLICT; a list holds at most 200 entries (BAD_USER_INPUT beyond).",
        graphql_type=RelationshipType,
    )
    async def create_relationship_type(
        self,
        info: Info[Context, None],
        input: Annotated[
            inputs.RelationshipTypeInput, strawberry.argument(description="The new entry.")
        ],
    ) -> RelationshipTypeRow:
        return await _create(info, rules.RELATIONSHIP_TYPE, input)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Admin only: rename or change a relationship type; a name taken: CONFLICT.",
        graphql_type=RelationshipType,
    )
    async def update_relationship_type(
        self,
        info: Info[Context, None],
        id: WriteId,
        input: Annotated[
            inputs.UpdateRelationshipTypeInput,
            strawberry.argument(description="The fields to change."),
        ],
    ) -> RelationshipTypeRow:
        return await _update(info, rules.RELATIONSHIP_TYPE, id, input)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Admin only: delete a relationship type for good; refused with "
        "CONFLICT while relationships use it. Returns its id.",
    )
    async def delete_relationship_type(
        self, info: Info[Context, None], id: WriteId
    ) -> strawberry.ID:
        return await _delete(info, rules.RELATIONSHIP_TYPE, id)
