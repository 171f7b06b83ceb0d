"""createContract, updateContract, deleteContract."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.services.contracts import service
from app.services.contracts.rows import ContractRow
from resolvers.common.described import ExpectedVersion
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.common.shared_descriptions import WriteId
from resolvers.context import Context
from resolvers.contracts.inputs import (
    CreateContractInput,
    UpdateContractInput,
)
from resolvers.contracts.types import Contract
from resolvers.permissions import CanWrite


@strawberry.type
class ContractMutations:
    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Record a contract with a company (member, admin). Invalid fields or an "
        "end before the start: BAD_USER_INPUT; an unknown or trashed company: NOT_FOUND. "
        "Emits crm.contract.created.",
        graphql_type=Contract,
    )
    async def create_contract(
        self,
        info: Info[Context, None],
        input: Annotated[CreateContractInput, strawberry.argument(description="The new contract.")],
    ) -> ContractRow:
        return await service.create_contract(info.context.scope, sent_fields(input))

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Change the fields sent (member, admin). With expectedVersion, a stale edit "
        "is a CONFLICT; invalid fields: BAD_USER_INPUT. Emits crm.contract.updated.",
        graphql_type=Contract,
    )
    async def update_contract(
        self,
        info: Info[Context, None],
        id: WriteId,
        input: Annotated[
            UpdateContractInput, strawberry.argument(description="The fields to change.")
        ],
        expected_version: ExpectedVersion = None,
    ) -> ContractRow:
        return await service.update_contract(
            info.context.scope, parse_id(id), sent_fields(input), expected_version
        )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Member, admin: move a contract to the trash (restoreContract brings it "
        "back). Returns its id.",
    )
    async def delete_contract(self, info: Info[Context, None], id: WriteId) -> strawberry.ID:
        deleted = await service.delete_contract(info.context.scope, parse_id(id))
        return strawberry.ID(str(deleted))
