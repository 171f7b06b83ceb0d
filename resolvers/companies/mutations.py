"""createCompany, updateCompany, deleteCompany."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.services.companies import service
from app.services.companies.rows import CompanyRow
from resolvers.common.described import ExpectedVersion
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.common.shared_descriptions import WriteId
from resolvers.companies.inputs import CreateCompanyInput, UpdateCompanyInput
from resolvers.companies.types import Company
from resolvers.context import Context
from resolvers.permissions import CanWrite


@strawberry.type
class CompanyMutations:
    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Create a company (member, admin). Invalid fields: BAD_USER_INPUT, each "
        "problem with its field path; an unknown industry, account type or owner: NOT_FOUND; "
        "with rejectDuplicates, a strong duplicate: CONFLICT. Emits crm.company.created.",
        graphql_type=Company,
    )
    async def create_company(
        self,
        info: Info[Context, None],
        input: Annotated[CreateCompanyInput, strawberry.argument(description="The new company.")],
    ) -> CompanyRow:
        return await service.create_company(info.context.scope, sent_fields(input))

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Change the fields sent (member, admin). With expectedVersion, a stale edit "
        "is a CONFLICT; invalid fields: BAD_USER_INPUT. Emits crm.company.updated with what "
        "changed.",
        graphql_type=Company,
    )
    async def update_company(
        self,
        info: Info[Context, None],
        id: WriteId,
        input: Annotated[
            UpdateCompanyInput, strawberry.argument(description="The fields to change.")
        ],
        expected_version: ExpectedVersion = None,
    ) -> CompanyRow:
        return await service.update_company(
            info.context.scope, parse_id(id), sent_fields(input), expected_version
        )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Member, admin: move a company to the trash (restoreCompany brings it "
        "back, purgeCompany or the retention deletes it for good); returns its id. "
        "Nothing else is trashed: its contacts, deals and activities stay linked and read "
        "the link as null while it is trashed; its contracts and relationships are hidden "
        "with it.",
    )
    async def delete_company(self, info: Info[Context, None], id: WriteId) -> strawberry.ID:
        deleted = await service.delete_company(info.context.scope, parse_id(id))
        return strawberry.ID(str(deleted))
