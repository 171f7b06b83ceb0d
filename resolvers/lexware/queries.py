"""lexwareContacts: search Lexware Office from the CRM."""

from __future__ import annotations

from typing import Annotated

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
        description="Search Lexware Office's contacts (every role): those matching every "
        "filter given (name and email: at least 3 characters, contained anywhere), 25 a page, "
        "by name, with the CRM records already linked to them. Lexware down: "
        "LEXWARE_UNAVAILABLE; no key: LEXWARE_NOT_CONFIGURED.",
    )
    async def lexware_contacts(
        self,
        info: Info[Context, None],
        name: Annotated[
            str | None,
            strawberry.argument(
                description="Part of the company or person name, 3-200 characters (else "
                "BAD_USER_INPUT); unset: any name."
            ),
        ] = None,
        email: Annotated[
            str | None,
            strawberry.argument(
                description="Part of any of its e-mail addresses, 3-200 characters (else "
                "BAD_USER_INPUT); unset: any."
            ),
        ] = None,
        number: Annotated[
            int | None,
            strawberry.argument(description="Exactly this customer or vendor number."),
        ] = None,
        customer: Annotated[
            bool | None,
            strawberry.argument(
                description="true: only customers; false: only contacts that are no customer; "
                "unset: both."
            ),
        ] = None,
        vendor: Annotated[
            bool | None,
            strawberry.argument(
                description="true: only vendors; false: only contacts that are no vendor; "
                "unset: both."
            ),
        ] = None,
        page: Annotated[
            int,
            strawberry.argument(
                description="Which page, counting from 0 (default), at most 10000 (else "
                "BAD_USER_INPUT)."
            ),
        ] = 0,
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
        description="Whether Lexware Office is connected for the tenant, and with whose key "
        "(every role; asks Lexware whether the key works).",
    )
    async def lexware_status(self, info: Info[Context, None]) -> LexwareStatus:
        context = info.context
        return LexwareStatus.of(await lexware_accounts.status(context.lexware, context.scope))
