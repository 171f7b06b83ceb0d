"""add/remove owners of companies and contacts (deals get theirs with the deal module), and
addUser: a colleague an admin adds before their first sign-in, so they can be owners now."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from app.services.companies.rows import CompanyRow
from app.services.companies.rules import COMPANY
from app.services.contacts.rows import ContactRow
from app.services.contacts.rules import CONTACT
from app.services.members.rows import UserRow
from app.services.members.service import add_user
from app.services.owners import rules
from models.enums import OwnerRole
from resolvers.common.inputs import sent_fields
from resolvers.common.owners import (
    OwnerRoleArgument,
    OwnerUserId,
    RemovedUserId,
    add,
    adding,
    remove,
    removing,
)
from resolvers.common.shared_descriptions import WriteId
from resolvers.companies.types import Company
from resolvers.contacts.types import Contact
from resolvers.context import Context
from resolvers.me.types import User
from resolvers.permissions import CanWrite, IsAdmin

WRITE: list[type[BasePermission]] = [CanWrite]


@strawberry.input(description="A colleague who has not signed in yet.")
class AddUserInput:
    email: str = strawberry.field(
        description="Their e-mail address; their first token of this tenant whose e-mail "
        "claim is this address (in any case) becomes this user."
    )
    name: str = strawberry.field(
        description="Their name as colleagues see it in pickers; 1 to 200 characters."
    )


@strawberry.type
class OwnerMutations:
    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Admin only: add a user of this tenant by e-mail and name before their "
        "first sign-in; they appear in `users` (signedInAt null) and can be made owners at "
        "once. An e-mail address a user of the tenant has already is a CONFLICT.",
        graphql_type=User,
    )
    async def add_user(
        self,
        info: Info[Context, None],
        input: Annotated[AddUserInput, strawberry.argument(description="Who to add.")],
    ) -> UserRow:
        return await add_user(info.context.scope, sent_fields(input))

    @strawberry.mutation(
        permission_classes=WRITE,
        description=adding("company"),
        graphql_type=Company,
    )
    async def add_company_owner(
        self,
        info: Info[Context, None],
        company_id: WriteId,
        user_id: OwnerUserId,
        role: OwnerRoleArgument = OwnerRole.OWNER,
    ) -> CompanyRow:
        kind = rules.COMPANY_OWNERS
        return await add(info, kind, COMPANY, company_id, user_id, role, "companyId")

    @strawberry.mutation(
        permission_classes=WRITE,
        description=removing("company"),
        graphql_type=Company,
    )
    async def remove_company_owner(
        self, info: Info[Context, None], company_id: WriteId, user_id: RemovedUserId
    ) -> CompanyRow:
        return await remove(info, rules.COMPANY_OWNERS, COMPANY, company_id, user_id, "companyId")

    @strawberry.mutation(
        permission_classes=WRITE,
        description=adding("contact"),
        graphql_type=Contact,
    )
    async def add_contact_owner(
        self,
        info: Info[Context, None],
        contact_id: WriteId,
        user_id: OwnerUserId,
        role: OwnerRoleArgument = OwnerRole.OWNER,
    ) -> ContactRow:
        kind = rules.CONTACT_OWNERS
        return await add(info, kind, CONTACT, contact_id, user_id, role, "contactId")

    @strawberry.mutation(
        permission_classes=WRITE,
        description=removing("contact"),
        graphql_type=Contact,
    )
    async def remove_contact_owner(
        self, info: Info[Context, None], contact_id: WriteId, user_id: RemovedUserId
    ) -> ContactRow:
        return await remove(info, rules.CONTACT_OWNERS, CONTACT, contact_id, user_id, "contactId")
