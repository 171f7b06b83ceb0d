"""lexwareContacts: search Lexware Office from the CRM."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.services.lexware import accounts as lexware_accounts
from app.services.lexware import search as service
from resolvers.context import Context
from resolvers.lexware.types import LexwareContact, LexwareContactPage, LexwareStatus
from resolvers.permissions import CanRead


@strawberry.type
class LexwareQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="Lexware contacts matching every filter given (name and email: at least "
        "3 characters, contained anywhere), with the CRM records already linked to them.",
    )
    async def lexware_contacts(
        self,
        info: Info[Context, None],
        name: str | None = None,
        email: str | None = None,
        number: int | None = None,
        customer: bool | None = None,
        vendor: bool | None = None,
        page: int = 0,
    ) -> LexwareContactPage:
        context = info.context
        query = service.ContactSearch(name, email, number, customer, vendor, page)
        service.check_search(query)
        client = await context.lexware.client(context.scope)
        found = await service.search(client, context.scope, query)
        return LexwareContactPage(
            items=[LexwareContact(found=item) for item in found.items],
            page=found.page,
            total_pages=found.total_pages,
            total_elements=found.total_elements,
        )

    @strawberry.field(
        permission_classes=[CanRead],
        description="Whether Lexware Office is connected for the tenant, and with whose key.",
    )
    async def lexware_status(self, info: Info[Context, None]) -> LexwareStatus:
        context = info.context
        return LexwareStatus.of(await lexware_accounts.status(context.lexware, context.scope))
