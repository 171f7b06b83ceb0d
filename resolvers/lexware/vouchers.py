"""Lexware vouchers on companies, contacts and deals; refreshing them and linking to deals."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from app.services.companies.rows import CompanyRow
from app.services.companies.service import COMPANY
from app.services.contacts.rows import ContactRow
from app.services.contacts.service import CONTACT
from app.services.deals.rows import DealRow
from app.services.lexware import vouchers as service
from app.services.lexware.contacts import COMPANY_KIND, CONTACT_KIND
from app.services.lexware.rows import LinkedVoucherRow, VoucherRow
from app.services.members.rows import UserRow
from app.services.owners.rules import USER
from resolvers.common.children import NESTED_DEFAULT, First, nested_limit
from resolvers.common.inputs import parse_id
from resolvers.common.relations import rows_field
from resolvers.context import Context
from resolvers.me.types import User
from resolvers.nodes.types import Node
from resolvers.permissions import CanWrite

if TYPE_CHECKING:
    from resolvers.companies.types import Company
    from resolvers.contacts.types import Contact
    from resolvers.deals.types import Deal

CompanyRef = Annotated["Company", strawberry.lazy("resolvers.companies.types")]
ContactRef = Annotated["Contact", strawberry.lazy("resolvers.contacts.types")]
DealRef = Annotated["Deal", strawberry.lazy("resolvers.deals.types")]


def _web_app_url(root: strawberry.Parent[VoucherRow], info: Info[Context, None]) -> str:
    path = service.web_app_path(root.voucher_type)
    return info.context.lexware.deep_link(path, root.lexware_voucher_id)


@strawberry.type(description="An invoice, quotation, credit note, ... from Lexware Office.")
class LexwareVoucher(Node):
    id: strawberry.ID
    lexware_voucher_id: strawberry.ID
    voucher_type: str = strawberry.field(description="invoice, quotation, creditnote, ...")
    voucher_status: str = strawberry.field(description="draft, open, paid, overdue, voided, ...")
    voucher_number: str | None
    voucher_date: datetime | None
    due_date: datetime | None
    total_amount: Decimal | None
    open_amount: Decimal | None
    currency: str
    contact_name: str | None
    lexware_updated_at: datetime | None
    web_app_url: str = strawberry.field(
        resolver=_web_app_url, description="Opens the voucher in the Lexware web app."
    )


async def _linked_by(
    root: strawberry.Parent[LinkedVoucherRow], info: Info[Context, None]
) -> UserRow | None:
    if root.linked_by_id is None:
        return None
    return await info.context.loaders.by_id(USER).load(root.linked_by_id)


@strawberry.type(description="A voucher linked to a deal, with who linked it and when.")
class DealVoucherLink:
    linked_at: datetime
    linked_by: User | None = rows_field(_linked_by)

    @strawberry.field(graphql_type=LexwareVoucher)
    def voucher(self, root: strawberry.Parent[LinkedVoucherRow]) -> LinkedVoucherRow:
        return root


_NEWEST = service.newest_first()


async def vouchers_of_record(
    root: strawberry.Parent[CompanyRow | ContactRow],
    info: Info[Context, None],
    first: First = NESTED_DEFAULT,
) -> list[VoucherRow]:
    """The vouchers of the Lexware contact the record is linked to (from the cache)."""
    context = info.context
    limit = nested_limit(first, context.settings.max_page_size)  # was unchecked: any `first`
    if root.lexware_contact_id is None:
        return []
    loader = context.loaders.by_parent(service.VOUCHER, "lexware_contact_id", _NEWEST, limit)
    return await loader.load(root.lexware_contact_id)


async def vouchers_of_deal(
    root: strawberry.Parent[DealRow], info: Info[Context, None], first: First = NESTED_DEFAULT
) -> list[LinkedVoucherRow]:
    """At most `first` (the query cost counts them so; the list had no bound at all)."""
    context = info.context
    limit = nested_limit(first, context.settings.max_page_size)

    async def load(deal_ids: list[uuid.UUID]) -> list[list[LinkedVoucherRow]]:
        return await service.deal_links(context.scope, deal_ids, limit)

    return await context.loaders.custom(f"deal_vouchers:{limit}", load).load(root.id)


@strawberry.type
class LexwareVoucherMutations:
    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Fetch the company's vouchers from Lexware again (every page).",
        graphql_type=CompanyRef,
    )
    async def refresh_company_vouchers(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> CompanyRow | None:
        context = info.context
        client = await context.lexware.client(context.scope)
        company_id = parse_id(id)
        await service.refresh_for(client, context.scope, COMPANY_KIND, company_id)
        return await context.loaders.by_id(COMPANY).load(company_id)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Fetch the contact's vouchers from Lexware again (every page).",
        graphql_type=ContactRef,
    )
    async def refresh_contact_vouchers(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> ContactRow | None:
        context = info.context
        client = await context.lexware.client(context.scope)
        contact_id = parse_id(id)
        await service.refresh_for(client, context.scope, CONTACT_KIND, contact_id)
        return await context.loaders.by_id(CONTACT).load(contact_id)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Link a cached voucher to a deal: a voucher of the Lexware contact that the "
        "deal's company or contact is linked to.",
        graphql_type=DealRef,
    )
    async def link_voucher_to_deal(
        self, info: Info[Context, None], deal_id: strawberry.ID, voucher_id: strawberry.ID
    ) -> DealRow:
        context = info.context
        deal = parse_id(deal_id, "dealId")
        await service.link_to_deal(context.scope, deal, parse_id(voucher_id, "voucherId"))
        return await _deal(info, deal)

    @strawberry.mutation(permission_classes=[CanWrite], graphql_type=DealRef)
    async def unlink_voucher_from_deal(
        self, info: Info[Context, None], deal_id: strawberry.ID, voucher_id: strawberry.ID
    ) -> DealRow:
        context = info.context
        deal = parse_id(deal_id, "dealId")
        await service.unlink_from_deal(context.scope, deal, parse_id(voucher_id, "voucherId"))
        return await _deal(info, deal)


async def _deal(info: Info[Context, None], deal_id: uuid.UUID) -> DealRow:
    from app.services.deals.queries import get_deal

    return await get_deal(info.context.scope, deal_id)
