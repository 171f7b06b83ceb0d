"""Link, unlink, import, push and sync companies and contacts with Lexware Office."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.services.companies.rows import CompanyRow
from app.services.contacts.rows import ContactRow
from app.services.lexware import accounts as lexware_accounts
from app.services.lexware import contacts as service
from app.services.lexware import pull
from app.services.lexware import push as lexware_push
from app.services.lexware.contacts import COMPANY_KIND, CONTACT_KIND
from resolvers.common.inputs import parse_id
from resolvers.companies.types import Company
from resolvers.contacts.types import Contact
from resolvers.context import Context
from resolvers.lexware.types import LexwareStatus
from resolvers.permissions import CanWrite, IsAdmin

LEXWARE_ID = "lexwareContactId"


@strawberry.type
class LexwareContactMutations:
    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Link to a Lexware company contact.",
        graphql_type=Company,
    )
    async def link_company_to_lexware(
        self,
        info: Info[Context, None],
        company_id: strawberry.ID,
        lexware_contact_id: strawberry.ID,
    ) -> CompanyRow:
        company, lexware = (
            parse_id(company_id, "companyId"),
            parse_id(lexware_contact_id, LEXWARE_ID),
        )
        context = info.context
        return await service.link(context.lexware, context.scope, COMPANY_KIND, company, lexware)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Link to a Lexware person contact.",
        graphql_type=Contact,
    )
    async def link_contact_to_lexware(
        self,
        info: Info[Context, None],
        contact_id: strawberry.ID,
        lexware_contact_id: strawberry.ID,
    ) -> ContactRow:
        contact, lexware = (
            parse_id(contact_id, "contactId"),
            parse_id(lexware_contact_id, LEXWARE_ID),
        )
        context = info.context
        return await service.link(context.lexware, context.scope, CONTACT_KIND, contact, lexware)

    @strawberry.mutation(permission_classes=[CanWrite], graphql_type=Company)
    async def unlink_company_from_lexware(
        self, info: Info[Context, None], company_id: strawberry.ID
    ) -> CompanyRow:
        context = info.context
        return await service.unlink(
            context.lexware.redis, context.scope, COMPANY_KIND, parse_id(company_id, "companyId")
        )

    @strawberry.mutation(permission_classes=[CanWrite], graphql_type=Contact)
    async def unlink_contact_from_lexware(
        self, info: Info[Context, None], contact_id: strawberry.ID
    ) -> ContactRow:
        context = info.context
        return await service.unlink(
            context.lexware.redis, context.scope, CONTACT_KIND, parse_id(contact_id, "contactId")
        )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Create a company from a Lexware company contact, linked (an already "
        "linked one is returned, not duplicated).",
        graphql_type=Company,
    )
    async def import_company_from_lexware(
        self, info: Info[Context, None], lexware_contact_id: strawberry.ID
    ) -> CompanyRow:
        lexware = parse_id(lexware_contact_id, LEXWARE_ID)
        context = info.context
        client = await context.lexware.client(context.scope)
        return await service.import_record(client, context.scope, COMPANY_KIND, lexware)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Create a contact from a Lexware person contact, linked.",
        graphql_type=Contact,
    )
    async def import_contact_from_lexware(
        self, info: Info[Context, None], lexware_contact_id: strawberry.ID
    ) -> ContactRow:
        lexware = parse_id(lexware_contact_id, LEXWARE_ID)
        context = info.context
        client = await context.lexware.client(context.scope)
        return await service.import_record(client, context.scope, CONTACT_KIND, lexware)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Send the company to Lexware: created as a customer when unlinked, else "
        "the fields the CRM changed since the last sync (a field Lexware changed too is a "
        "CONFLICT naming it).",
        graphql_type=Company,
    )
    async def push_company_to_lexware(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> CompanyRow:
        context = info.context
        return await lexware_push.push(context.lexware, context.scope, COMPANY_KIND, parse_id(id))

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Send the contact to Lexware.",
        graphql_type=Contact,
    )
    async def push_contact_to_lexware(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> ContactRow:
        context = info.context
        return await lexware_push.push(context.lexware, context.scope, CONTACT_KIND, parse_id(id))

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Take Lexware's data into the company.",
        graphql_type=Company,
    )
    async def sync_company_from_lexware(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> CompanyRow:
        context = info.context
        return await pull.sync(context.lexware, context.scope, COMPANY_KIND, parse_id(id))

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Take Lexware's data into the contact.",
        graphql_type=Contact,
    )
    async def sync_contact_from_lexware(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> ContactRow:
        context = info.context
        return await pull.sync(context.lexware, context.scope, CONTACT_KIND, parse_id(id))

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Connect the tenant's own Lexware account: the key is checked with Lexware, "
        "then stored encrypted and never shown again. null removes it.",
    )
    async def set_lexware_api_key(
        self, info: Info[Context, None], api_key: str | None
    ) -> LexwareStatus:
        context = info.context
        status = await lexware_accounts.set_api_key(context.lexware, context.scope, api_key)
        return LexwareStatus.of(status)
