"""Lexware vouchers on companies, contacts and deals; refreshing them and linking to deals."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from app.data.sort_keys import SortKey
from app.services.companies.rows import CompanyRow
from app.services.companies.service import COMPANY
from app.services.contacts.rows import ContactRow
from app.services.contacts.service import CONTACT
from app.services.deals.rows import DealRow
from app.services.lexware import vouchers as service
from app.services.lexware.contacts import COMPANY_KIND, CONTACT_KIND
from app.services.lexware.rows import DealVoucherRow, VoucherRow
from app.services.members.rows import UserRow
from app.services.owners.rules import USER
from resolvers.common.inputs import parse_id
from resolvers.common.nested import (
    NESTED_PAGE_SIZE,
    Before,
    Last,
    NestedFirst,
    NestedList,
    nested_page_by_key,
)
from resolvers.common.pagination import Connection, PageArguments
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


@strawberry.type(
    description="An invoice, quotation, credit note, ... from Lexware Office, as the CRM cached "
    "it (refreshed every 4 hours by the worker, and on refreshCompanyVouchers / "
    "refreshContactVouchers). Read-only: Lexware is where vouchers are written."
)
class LexwareVoucher(Node):
    id: strawberry.ID = strawberry.field(
        description="The CRM's id of the cached voucher: what linkVoucherToDeal takes."
    )
    lexware_voucher_id: strawberry.ID = strawberry.field(
        description="Lexware's id of the voucher (a UUID)."
    )
    voucher_type: str = strawberry.field(
        description="Lexware's voucher type, lower case: invoice, downpaymentinvoice, "
        "creditnote, orderconfirmation, quotation, deliverynote, dunning, salesinvoice, "
        "salescreditnote, purchaseinvoice, purchasecreditnote."
    )
    voucher_status: str = strawberry.field(
        description="Lexware's status, lower case: draft (editable), open (final, not fully "
        "paid), overdue (open past its due date), paid, paidoff (a settled credit note), "
        "voided (cancelled), transferred, sepadebit, accepted or rejected (quotations), "
        "unchecked."
    )
    voucher_number: str | None = strawberry.field(
        description="The number printed on the voucher, e.g. RE0815; null for a draft."
    )
    voucher_date: datetime | None = strawberry.field(
        description="The voucher's date as Lexware gives it (an instant with its offset)."
    )
    due_date: datetime | None = strawberry.field(
        description="When payment is due; null for types without one, e.g. quotations or drafts."
    )
    total_amount: Decimal | None = strawberry.field(
        description="The total in `currency`, 2 decimals, as Lexware states it (may include tax)."
    )
    open_amount: Decimal | None = strawberry.field(
        description="What is still unpaid; null e.g. for drafts and vouchers that are no invoice."
    )
    currency: str = strawberry.field(description="The ISO 4217 code; Lexware uses EUR only.")
    contact_name: str | None = strawberry.field(
        description="The customer's name as on the voucher (persons: Lastname, Firstname)."
    )
    lexware_updated_at: datetime | None = strawberry.field(
        description="When the voucher last changed in Lexware (content or status)."
    )
    web_app_url: str = strawberry.field(
        resolver=_web_app_url,
        description="A link that opens the voucher in the Lexware web app (LEXWARE_APP_URL).",
    )


async def _linked_by(
    root: strawberry.Parent[DealVoucherRow], info: Info[Context, None]
) -> UserRow | None:
    if root.linked_by_id is None:
        return None
    return await info.context.loaders.by_id(USER).load(root.linked_by_id)


async def _voucher(
    root: strawberry.Parent[DealVoucherRow], info: Info[Context, None]
) -> VoucherRow | None:
    return await info.context.loaders.by_id(service.VOUCHER).load(root.voucher_id)


@strawberry.type(description="A voucher linked to a deal, with who linked it and when.")
class DealVoucherLink:
    linked_at: datetime = strawberry.field(description="When it was linked to the deal.")
    linked_by: User | None = rows_field(
        _linked_by, "Who linked it; null when no user did (or the user is gone)."
    )
    voucher: LexwareVoucher = rows_field(_voucher, "The linked voucher.")


VoucherAfter = Annotated[
    str | None,
    strawberry.argument(
        description="Continue after this cursor (an edge's `cursor` or `pageInfo.endCursor` "
        "of this list)."
    ),
]


def _by_voucher_date(field: object) -> SortKey:
    return service.VOUCHER_BY_DATE  # the lists' one order: newest voucher first


def _links_by_voucher_date(field: object) -> SortKey:
    return service.LINK_BY_VOUCHER_DATE


# The vouchers of a Lexware contact (a company's or contact's `lexware_contact_id`) and the
# voucher links of a deal: newest voucher first, undated last. Neither carries NESTED_PAGE
# metadata (the compiled path pages by the parent's id, and a voucher's webAppUrl has a
# resolver): the executor answers them (docs/ARCHITECTURE.md section 12).
VOUCHERS_OF_LEXWARE_CONTACT = NestedList(
    service.VOUCHER, "lexware_contact_id", _by_voucher_date, ("VOUCHER_DATE", True)
)
VOUCHER_LINKS_OF_DEAL = NestedList(
    service.DEAL_VOUCHER, "deal_id", _links_by_voucher_date, ("VOUCHER_DATE", True)
)


async def vouchers_of_record(
    root: strawberry.Parent[CompanyRow | ContactRow],
    info: Info[Context, None],
    first: NestedFirst = NESTED_PAGE_SIZE,
    after: VoucherAfter = None,
    last: Last = None,
    before: Before = None,
) -> Connection[VoucherRow]:
    """The vouchers of the Lexware contact the record is linked to (from the cache), a page
    at a time; none while it is not linked."""
    arguments = PageArguments(first, after, last, before)
    spec = VOUCHERS_OF_LEXWARE_CONTACT
    return await nested_page_by_key(info, spec, root.lexware_contact_id, arguments)


async def vouchers_of_deal(
    root: strawberry.Parent[DealRow],
    info: Info[Context, None],
    first: NestedFirst = NESTED_PAGE_SIZE,
    after: VoucherAfter = None,
    last: Last = None,
    before: Before = None,
) -> Connection[DealVoucherRow]:
    """The deal's voucher links, a page at a time (one statement per level for all deals,
    and one for their vouchers)."""
    arguments = PageArguments(first, after, last, before)
    return await nested_page_by_key(info, VOUCHER_LINKS_OF_DEAL, root.id, arguments)


_LINKED_RECORD = (
    "{what}'s id; unknown or another tenant's: NOT_FOUND; not linked to Lexware: BAD_USER_INPUT."
)
RefreshCompanyId = Annotated[
    strawberry.ID, strawberry.argument(description=_LINKED_RECORD.format(what="The company"))
]
RefreshContactId = Annotated[
    strawberry.ID, strawberry.argument(description=_LINKED_RECORD.format(what="The contact"))
]
VoucherDealId = Annotated[
    strawberry.ID,
    strawberry.argument(description="The deal's id; unknown or trashed: NOT_FOUND."),
]
VoucherId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="The cached voucher's id (`LexwareVoucher.id`, not Lexware's id); unknown: "
        "NOT_FOUND."
    ),
]
_REFRESH = (
    "Fetch the {what}'s vouchers from Lexware again, every page (member, admin): the vouchers "
    "of the Lexware contact it is linked to. Lexware errors: LEXWARE_UNAVAILABLE, "
    "LEXWARE_NOT_CONFIGURED. Answers the {what} (its lexwareVouchers fresh)."
)


@strawberry.type
class LexwareVoucherMutations:
    @strawberry.mutation(
        permission_classes=[CanWrite],
        description=_REFRESH.format(what="company"),
        graphql_type=CompanyRef,
    )
    async def refresh_company_vouchers(
        self, info: Info[Context, None], id: RefreshCompanyId
    ) -> CompanyRow | None:
        context = info.context
        client = await context.lexware.client(context.scope)
        company_id = parse_id(id)
        await service.refresh_for(client, context.scope, COMPANY_KIND, company_id)
        return await context.loaders.by_id(COMPANY).load(company_id)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description=_REFRESH.format(what="contact"),
        graphql_type=ContactRef,
    )
    async def refresh_contact_vouchers(
        self, info: Info[Context, None], id: RefreshContactId
    ) -> ContactRow | None:
        context = info.context
        client = await context.lexware.client(context.scope)
        contact_id = parse_id(id)
        await service.refresh_for(client, context.scope, CONTACT_KIND, contact_id)
        return await context.loaders.by_id(CONTACT).load(contact_id)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Link a cached voucher to a deal (member, admin): only a voucher of the "
        "Lexware contact that the deal's company or contact is linked to; any other (or one "
        "that cannot be checked: no linked customer, Lexware's collective contact) is "
        "BAD_USER_INPUT (extensions.voucher, extensions.deal). Linked already: CONFLICT. Event "
        "crm.deal.voucher_linked; answers the deal.",
        graphql_type=DealRef,
    )
    async def link_voucher_to_deal(
        self, info: Info[Context, None], deal_id: VoucherDealId, voucher_id: VoucherId
    ) -> DealRow:
        context = info.context
        deal = parse_id(deal_id, "dealId")
        await service.link_to_deal(context.scope, deal, parse_id(voucher_id, "voucherId"))
        return await _deal(info, deal)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Remove a voucher's link to a deal (member, admin; the voucher stays "
        "cached). Not linked: NOT_FOUND. Event crm.deal.voucher_unlinked; answers the deal.",
        graphql_type=DealRef,
    )
    async def unlink_voucher_from_deal(
        self, info: Info[Context, None], deal_id: VoucherDealId, voucher_id: VoucherId
    ) -> DealRow:
        context = info.context
        deal = parse_id(deal_id, "dealId")
        await service.unlink_from_deal(context.scope, deal, parse_id(voucher_id, "voucherId"))
        return await _deal(info, deal)


async def _deal(info: Info[Context, None], deal_id: uuid.UUID) -> DealRow:
    from app.services.deals.queries import get_deal

    return await get_deal(info.context.scope, deal_id)
