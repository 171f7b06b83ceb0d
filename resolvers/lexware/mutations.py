"""Link, unlink, import, push and sync companies and contacts with Lexware Office."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

import strawberry
from sqlalchemy.engine import Row
from strawberry.types import Info

from app.services.lexware import accounts as lexware_accounts
from app.services.lexware import contacts as service
from app.services.lexware import push as lexware_push
from app.services.lexware.contacts import COMPANY_KIND, CONTACT_KIND, RecordKind
from resolvers.common.inputs import parse_id
from resolvers.companies.types import Company
from resolvers.contacts.types import Contact
from resolvers.context import Context
from resolvers.lexware.types import LexwareStatus
from resolvers.permissions import CanWrite, IsAdmin


async def _remote(
    info: Info[Context, None],
    operation: Callable[..., Awaitable[Row[Any]]],
    kind: RecordKind,
    *ids: uuid.UUID,
) -> Row[Any]:
    """A service operation that talks to Lexware, with the tenant's client."""
    context = info.context
    client = await context.lexware.client(context.scope)
    return await operation(client, context.scope, kind, *ids)


async def _held(
    info: Info[Context, None],
    operation: Callable[..., Awaitable[Row[Any]]],
    kind: RecordKind,
    *ids: uuid.UUID,
) -> Row[Any]:
    """A service operation that holds the record's Lexware lease (link, sync)."""
    context = info.context
    return await operation(context.lexware, context.scope, kind, *ids)


LEXWARE_ID = "lexwareContactId"


@strawberry.type
class LexwareContactMutations:
    @strawberry.mutation(
        permission_classes=[CanWrite], description="Link to a Lexware company contact."
    )
    async def link_company_to_lexware(
        self,
        info: Info[Context, None],
        company_id: strawberry.ID,
        lexware_contact_id: strawberry.ID,
    ) -> Company:
        company, lexware = (
            parse_id(company_id, "companyId"),
            parse_id(lexware_contact_id, LEXWARE_ID),
        )
        row = await _held(info, service.link, COMPANY_KIND, company, lexware)
        return cast(Company, row)

    @strawberry.mutation(
        permission_classes=[CanWrite], description="Link to a Lexware person contact."
    )
    async def link_contact_to_lexware(
        self,
        info: Info[Context, None],
        contact_id: strawberry.ID,
        lexware_contact_id: strawberry.ID,
    ) -> Contact:
        contact, lexware = (
            parse_id(contact_id, "contactId"),
            parse_id(lexware_contact_id, LEXWARE_ID),
        )
        row = await _held(info, service.link, CONTACT_KIND, contact, lexware)
        return cast(Contact, row)

    @strawberry.mutation(permission_classes=[CanWrite])
    async def unlink_company_from_lexware(
        self, info: Info[Context, None], company_id: strawberry.ID
    ) -> Company:
        context = info.context
        row = await service.unlink(
            context.lexware.redis, context.scope, COMPANY_KIND, parse_id(company_id, "companyId")
        )
        return cast(Company, row)

    @strawberry.mutation(permission_classes=[CanWrite])
    async def unlink_contact_from_lexware(
        self, info: Info[Context, None], contact_id: strawberry.ID
    ) -> Contact:
        context = info.context
        row = await service.unlink(
            context.lexware.redis, context.scope, CONTACT_KIND, parse_id(contact_id, "contactId")
        )
        return cast(Contact, row)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Create a company from a Lexware company contact, linked (an already "
        "linked one is returned, not duplicated).",
    )
    async def import_company_from_lexware(
        self, info: Info[Context, None], lexware_contact_id: strawberry.ID
    ) -> Company:
        lexware = parse_id(lexware_contact_id, LEXWARE_ID)
        row = await _remote(info, service.import_record, COMPANY_KIND, lexware)
        return cast(Company, row)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Create a contact from a Lexware person contact, linked.",
    )
    async def import_contact_from_lexware(
        self, info: Info[Context, None], lexware_contact_id: strawberry.ID
    ) -> Contact:
        lexware = parse_id(lexware_contact_id, LEXWARE_ID)
        row = await _remote(info, service.import_record, CONTACT_KIND, lexware)
        return cast(Contact, row)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Send the company to Lexware: created as a customer when unlinked, else "
        "the fields the CRM changed since the last sync (a field Lexware changed too is a "
        "CONFLICT naming it).",
    )
    async def push_company_to_lexware(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> Company:
        context = info.context
        row = await lexware_push.push(context.lexware, context.scope, COMPANY_KIND, parse_id(id))
        return cast(Company, row)

    @strawberry.mutation(permission_classes=[CanWrite], description="Send the contact to Lexware.")
    async def push_contact_to_lexware(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> Contact:
        context = info.context
        row = await lexware_push.push(context.lexware, context.scope, CONTACT_KIND, parse_id(id))
        return cast(Contact, row)

    @strawberry.mutation(
        permission_classes=[CanWrite], description="Take Lexware's data into the company."
    )
    async def sync_company_from_lexware(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> Company:
        row = await _held(info, service.sync, COMPANY_KIND, parse_id(id))
        return cast(Company, row)

    @strawberry.mutation(
        permission_classes=[CanWrite], description="Take Lexware's data into the contact."
    )
    async def sync_contact_from_lexware(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> Contact:
        row = await _held(info, service.sync, CONTACT_KIND, parse_id(id))
        return cast(Contact, row)

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
