"""createContract, updateContract, deleteContract."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.services.contracts import service
from app.services.contracts.rows import ContractRow
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.context import Context
from resolvers.contracts.inputs import (
    CreateContractInput,
    UpdateContractInput,
)
from resolvers.contracts.types import Contract
from resolvers.permissions import CanWrite


@strawberry.type
class ContractMutations:
    @strawberry.mutation(permission_classes=[CanWrite], graphql_type=Contract)
    async def create_contract(
        self, info: Info[Context, None], input: CreateContractInput
    ) -> ContractRow:
        return await service.create_contract(info.context.scope, sent_fields(input))

    @strawberry.mutation(permission_classes=[CanWrite], graphql_type=Contract)
    async def update_contract(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        input: UpdateContractInput,
        expected_version: int | None = None,
    ) -> ContractRow:
        return await service.update_contract(
            info.context.scope, parse_id(id), sent_fields(input), expected_version
        )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Move a contract to the trash (restoreContract brings it back).",
    )
    async def delete_contract(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        deleted = await service.delete_contract(info.context.scope, parse_id(id))
        return strawberry.ID(str(deleted))
