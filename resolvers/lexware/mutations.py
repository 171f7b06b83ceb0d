"""Link, unlink, import, push and sync companies and contacts with Lexware Office."""

from __future__ import annotations

from typing import Annotated

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

_RECORD = (
    "The {what}'s id; unknown, trashed or another tenant's: NOT_FOUND. Another Lexware "
    "operation on it under way (any process): CONFLICT."
)
LinkedCompanyId = Annotated[
    strawberry.ID, strawberry.argument(description=_RECORD.format(what="company"))
]
LinkedContactId = Annotated[
    strawberry.ID, strawberry.argument(description=_RECORD.format(what="contact"))
]
_LEXWARE_CONTACT = (
    "Lexware's id of a {kind} contact (`LexwareContact.id` from lexwareContacts); unknown to "
    "Lexware: NOT_FOUND; one of the other kind: BAD_USER_INPUT."
)
_TAKEN = " One linked to another record of the tenant is CONFLICT (extensions.linkedTo)."
CompanyContactId = Annotated[
    strawberry.ID,
    strawberry.argument(description=_LEXWARE_CONTACT.format(kind="company") + _TAKEN),
]
PersonContactId = Annotated[
    strawberry.ID,
    strawberry.argument(description=_LEXWARE_CONTACT.format(kind="person") + _TAKEN),
]
ImportedCompanyId = Annotated[
    strawberry.ID, strawberry.argument(description=_LEXWARE_CONTACT.format(kind="company"))
]
ImportedPersonId = Annotated[
    strawberry.ID, strawberry.argument(description=_LEXWARE_CONTACT.format(kind="person"))
]
_UNLINK = (
    "Cut the {what}'s link to its Lexware contact (member, admin; Lexware is not called and "
    "keeps the contact). Not linked: BAD_USER_INPUT; vouchers linked to its deals that "
    "would lose their customer: CONFLICT (unlink them from the deals first). Event "
    "crm.{what}.lexware_unlinked."
)
_LEXWARE_ERRORS = (
    " Member, admin. Lexware down or slow: LEXWARE_UNAVAILABLE; no key: LEXWARE_NOT_CONFIGURED."
)


@strawberry.type
class LexwareContactMutations:
    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Link the company to a Lexware company contact, for pushes, syncs and its "
        "vouchers; what the company holds differently counts as the CRM's change, written by "
        "its next push. Its deals' linked vouchers must stay with their customer (else "
        "CONFLICT). Event crm.company.lexware_linked." + _LEXWARE_ERRORS,
        graphql_type=Company,
    )
    async def link_company_to_lexware(
        self,
        info: Info[Context, None],
        company_id: LinkedCompanyId,
        lexware_contact_id: CompanyContactId,
    ) -> CompanyRow:
        company, lexware = (
            parse_id(company_id, "companyId"),
            parse_id(lexware_contact_id, LEXWARE_ID),
        )
        context = info.context
        return await service.link(context.lexware, context.scope, COMPANY_KIND, company, lexware)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Link the contact to a Lexware person contact, for pushes, syncs and its "
        "vouchers (as linkCompanyToLexware). Event crm.contact.lexware_linked." + _LEXWARE_ERRORS,
        graphql_type=Contact,
    )
    async def link_contact_to_lexware(
        self,
        info: Info[Context, None],
        contact_id: LinkedContactId,
        lexware_contact_id: PersonContactId,
    ) -> ContactRow:
        contact, lexware = (
            parse_id(contact_id, "contactId"),
            parse_id(lexware_contact_id, LEXWARE_ID),
        )
        context = info.context
        return await service.link(context.lexware, context.scope, CONTACT_KIND, contact, lexware)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description=_UNLINK.format(what="company"),
        graphql_type=Company,
    )
    async def unlink_company_from_lexware(
        self, info: Info[Context, None], company_id: LinkedCompanyId
    ) -> CompanyRow:
        context = info.context
        return await service.unlink(
            context.lexware.redis, context.scope, COMPANY_KIND, parse_id(company_id, "companyId")
        )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description=_UNLINK.format(what="contact"),
        graphql_type=Contact,
    )
    async def unlink_contact_from_lexware(
        self, info: Info[Context, None], contact_id: LinkedContactId
    ) -> ContactRow:
        context = info.context
        return await service.unlink(
            context.lexware.redis, context.scope, CONTACT_KIND, parse_id(contact_id, "contactId")
        )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Create a company from a Lexware company contact, linked, owned by whoever "
        "imports it (an already linked one is returned, not duplicated). Values that fail "
        "the CRM's checks are kept and listed by dataQualityIssues." + _LEXWARE_ERRORS,
        graphql_type=Company,
    )
    async def import_company_from_lexware(
        self, info: Info[Context, None], lexware_contact_id: ImportedCompanyId
    ) -> CompanyRow:
        lexware = parse_id(lexware_contact_id, LEXWARE_ID)
        context = info.context
        client = await context.lexware.client(context.scope)
        return await service.import_record(client, context.scope, COMPANY_KIND, lexware)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Create a contact from a Lexware person contact, linked, owned by whoever "
        "imports it (an already linked one is returned, not duplicated)." + _LEXWARE_ERRORS,
        graphql_type=Contact,
    )
    async def import_contact_from_lexware(
        self, info: Info[Context, None], lexware_contact_id: ImportedPersonId
    ) -> ContactRow:
        lexware = parse_id(lexware_contact_id, LEXWARE_ID)
        context = info.context
        client = await context.lexware.client(context.scope)
        return await service.import_record(client, context.scope, CONTACT_KIND, lexware)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Send the company to Lexware: created as a customer when unlinked, else "
        "the fields the CRM changed since the last sync (a field Lexware changed too is a "
        "CONFLICT naming it, extensions.fields; nothing is written). Data Lexware refuses: "
        "BAD_USER_INPUT with fields lexware.<path>. Event crm.company.lexware_pushed."
        + _LEXWARE_ERRORS,
        graphql_type=Company,
    )
    async def push_company_to_lexware(
        self, info: Info[Context, None], id: LinkedCompanyId
    ) -> CompanyRow:
        context = info.context
        return await lexware_push.push(context.lexware, context.scope, COMPANY_KIND, parse_id(id))

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Send the contact to Lexware, as pushCompanyToLexware does: created as a "
        "customer (a person) when unlinked, else the fields the CRM changed since the last "
        "sync; a field both changed is a CONFLICT naming it. Event "
        "crm.contact.lexware_pushed." + _LEXWARE_ERRORS,
        graphql_type=Contact,
    )
    async def push_contact_to_lexware(
        self, info: Info[Context, None], id: LinkedContactId
    ) -> ContactRow:
        context = info.context
        return await lexware_push.push(context.lexware, context.scope, CONTACT_KIND, parse_id(id))

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Take Lexware's data into the linked company (Lexware's values win; the CRM "
        "keeps its own where Lexware holds none). Settles a push CONFLICT. Not linked: "
        "BAD_USER_INPUT. Event crm.company.lexware_synced." + _LEXWARE_ERRORS,
        graphql_type=Company,
    )
    async def sync_company_from_lexware(
        self, info: Info[Context, None], id: LinkedCompanyId
    ) -> CompanyRow:
        context = info.context
        return await pull.sync(context.lexware, context.scope, COMPANY_KIND, parse_id(id))

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Take Lexware's data into the linked contact (Lexware's values win; the CRM "
        "keeps its own where Lexware holds none). Not linked: BAD_USER_INPUT. Event "
        "crm.contact.lexware_synced." + _LEXWARE_ERRORS,
        graphql_type=Contact,
    )
    async def sync_contact_from_lexware(
        self, info: Info[Context, None], id: LinkedContactId
    ) -> ContactRow:
        context = info.context
        return await pull.sync(context.lexware, context.scope, CONTACT_KIND, parse_id(id))

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Connect the tenant's own Lexware account: the key is checked with Lexware, "
        "then stored encrypted and never shown again. null removes it (the server's key, if "
        "any, serves again). Admin only. The server without LEXWARE_KEY_SECRET: "
        "LEXWARE_NOT_CONFIGURED. Answers the new status.",
    )
    async def set_lexware_api_key(
        self,
        info: Info[Context, None],
        api_key: Annotated[
            str | None,
            strawberry.argument(
                description="The key from Lexware Office's public API settings (16-200 "
                "characters, no spaces); one Lexware refuses is BAD_USER_INPUT. null: remove "
                "the tenant's key."
            ),
        ],
    ) -> LexwareStatus:
        context = info.context
        status = await lexware_accounts.set_api_key(context.lexware, context.scope, api_key)
        return LexwareStatus.of(status)
