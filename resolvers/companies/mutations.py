"""createCompany, updateCompany, deleteCompany."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.services.companies import service
from app.services.companies.rows import CompanyRow
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.companies.inputs import CreateCompanyInput, UpdateCompanyInput
from resolvers.companies.types import Company
from resolvers.context import Context
from resolvers.permissions import CanWrite


@strawberry.type
class CompanyMutations:
    @strawberry.mutation(permission_classes=[CanWrite], graphql_type=Company)
    async def create_company(
        self, info: Info[Context, None], input: CreateCompanyInput
    ) -> CompanyRow:
        return await service.create_company(info.context.scope, sent_fields(input))

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Change the fields sent. With expectedVersion, a stale edit is a CONFLICT.",
        graphql_type=Company,
    )
    async def update_company(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        input: UpdateCompanyInput,
        expected_version: int | None = None,
    ) -> CompanyRow:
        return await service.update_company(
            info.context.scope, parse_id(id), sent_fields(input), expected_version
        )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Move a company to the trash (restoreCompany brings it back, purgeCompany "
        "or the retention deletes it for good). Nothing else is trashed: its contacts, deals "
        "and activities stay linked and read the link as null while it is trashed; its "
        "contracts and relationships are hidden with it.",
    )
    async def delete_company(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        deleted = await service.delete_company(info.context.scope, parse_id(id))
        return strawberry.ID(str(deleted))
