"""contract(id), contracts(...), createContract, updateContract, deleteContract."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.types import Info

from app.services import relationships as service
from models.enums import ContractStatus
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.context import context_of
from resolvers.contracts.types import Contract, CreateContractInput, UpdateContractInput
from resolvers.permissions import CanRead, CanWrite


@strawberry.type
class ContractQueries:
    @strawberry.field(permission_classes=[CanRead])
    async def contract(self, info: Info[Any, Any], id: strawberry.ID) -> Contract | None:
        return cast(Contract, await service.get_contract(context_of(info).scope, parse_id(id)))

    @strawberry.field(permission_classes=[CanRead], description="By end date (max 500).")
    async def contracts(
        self,
        info: Info[Any, Any],
        company_id: strawberry.ID | None = None,
        status: list[ContractStatus] | None = None,
    ) -> list[Contract]:
        company = parse_id(company_id, "companyId") if company_id else None
        rows = await service.list_contracts(context_of(info).scope, company, status or [])
        return cast(list[Contract], rows)


@strawberry.type
class ContractMutations:
    @strawberry.mutation(permission_classes=[CanWrite])
    async def create_contract(self, info: Info[Any, Any], input: CreateContractInput) -> Contract:
        row = await service.create_contract(context_of(info).scope, sent_fields(input))
        return cast(Contract, row)

    @strawberry.mutation(permission_classes=[CanWrite])
    async def update_contract(
        self,
        info: Info[Any, Any],
        id: strawberry.ID,
        input: UpdateContractInput,
        expected_version: int | None = None,
    ) -> Contract:
        row = await service.update_contract(
            context_of(info).scope, parse_id(id), sent_fields(input), expected_version
        )
        return cast(Contract, row)

    @strawberry.mutation(permission_classes=[CanWrite])
    async def delete_contract(self, info: Info[Any, Any], id: strawberry.ID) -> strawberry.ID:
        deleted = await service.delete_contract(context_of(info).scope, parse_id(id))
        return strawberry.ID(str(deleted))
