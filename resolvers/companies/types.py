"""The Company type: plain attributes read straight from the row (no per-field resolvers)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from app.events.message import CrmEventMessage
from app.services.activities.rows import ActivityRow
from app.services.companies.rows import CompanyRow
from app.services.contact_info.rows import EmailRow, PhoneRow
from app.services.contacts.queries import ContactOrderField, contact_sort_key
from app.services.contacts.rows import ContactRow
from app.services.contacts.rules import CONTACT
from app.services.contracts.rows import ContractRow
from app.services.deals.rows import DealRow
from app.services.duplicates.rules import DuplicateKind
from app.services.lookups.rows import AccountTypeRow, IndustryRow
from app.services.lookups.rules import ACCOUNT_TYPE, INDUSTRY
from app.services.owners.rows import OwnerRow
from app.services.owners.rules import COMPANY_OWNERS
from app.services.rollups.queries import COMPANY_ROLLUPS, Rollup
from app.services.rollups.rows import MoneyAmount
from resolvers.activities.types import (
    ACTIVITIES_OF,
    ActivityOrderArgument,
    activities_page,
)
from resolvers.common import shared_descriptions as texts
from resolvers.common.children import NESTED_DEFAULT, First, related
from resolvers.common.enums import CompanySize, EntityStatus, OrderDirection
from resolvers.common.nested import (
    NESTED_PAGE_SIZE,
    After,
    Before,
    Last,
    NestedFirst,
    NestedList,
    nested_connection,
    nested_page,
)
from resolvers.common.pagination import Connection, PageArguments
from resolvers.common.relations import ToOne, child_order, relation_field, rows_field
from resolvers.common.rollups import (
    LAST_ACTIVITY_AT,
    NEXT_ACTIVITY_DUE_AT,
    OPEN_DEAL_COUNT,
    OPEN_DEAL_VALUE,
    rollup_field,
    rollups_of,
)
from resolvers.common.types import Address, address_from_json
from resolvers.contact_info.loaders import emails_of, emails_relation, phones_of, phones_relation
from resolvers.contact_info.types import Email, Phone
from resolvers.contacts.inputs import ContactOrder
from resolvers.context import Context
from resolvers.contracts.types import (
    CONTRACTS_OF_COMPANY,
    Contract,
    ContractOrderArgument,
    contracts_page,
)
from resolvers.deals.types import DEALS_OF, DealOrderArgument, deals_page
from resolvers.duplicates.loaders import DuplicateCandidateRef, possible_duplicates_field
from resolvers.events.types import (
    CrmEventType,
    HistoryAfter,
    HistoryDirection,
    HistoryFirst,
    history_of,
)
from resolvers.lexware.vouchers import LexwareVoucher, vouchers_of_record
from resolvers.lookups.types import AccountType, Industry
from resolvers.merges.loaders import company_merged_from, merged_into
from resolvers.nodes.types import Node
from resolvers.owners.types import Owner, OwnerOrderBy, owners_of, owners_relation
from resolvers.pipelines.types import Money
from resolvers.relationships.queries import CompanyRelationshipOrder
from resolvers.relationships.types import (
    CompanyRelationship,
    RelationshipView,
    relationships_page,
)

if TYPE_CHECKING:
    from resolvers.activities.types import Activity
    from resolvers.contacts.types import Contact
    from resolvers.deals.types import Deal

ContactRef = Annotated["Contact", strawberry.lazy("resolvers.contacts.types")]
DealRef = Annotated["Deal", strawberry.lazy("resolvers.deals.types")]


def _billing_address(root: strawberry.Parent[CompanyRow]) -> Address | None:
    return address_from_json(root.billing_address)


def _delivery_address(root: strawberry.Parent[CompanyRow]) -> Address | None:
    return address_from_json(root.delivery_address)


ActivityRef = Annotated["Activity", strawberry.lazy("resolvers.activities.types")]
# A company's contacts: by last name unless `orderBy` says otherwise.
CONTACTS_OF_COMPANY = NestedList(
    CONTACT, "company_id", contact_sort_key, (ContactOrderField.LAST_NAME, False)
)
INDUSTRY_OF = ToOne(INDUSTRY, "industry_id")
ACCOUNT_TYPE_OF = ToOne(ACCOUNT_TYPE, "account_type_id")


async def _industry(
    root: strawberry.Parent[CompanyRow], info: Info[Context, None]
) -> IndustryRow | None:
    return await related(info, INDUSTRY_OF, root)


async def _account_type(
    root: strawberry.Parent[CompanyRow], info: Info[Context, None]
) -> AccountTypeRow | None:
    return await related(info, ACCOUNT_TYPE_OF, root)


async def _emails(root: strawberry.Parent[CompanyRow], info: Info[Context, None]) -> list[EmailRow]:
    return await emails_of(info, "company_id", root)


async def _phones(root: strawberry.Parent[CompanyRow], info: Info[Context, None]) -> list[PhoneRow]:
    return await phones_of(info, "company_id", root)


async def _contacts(
    root: strawberry.Parent[CompanyRow],
    info: Info[Context, None],
    first: NestedFirst = NESTED_PAGE_SIZE,
    after: After = None,
    last: Last = None,
    before: Before = None,
    order_by: Annotated[
        ContactOrder | None,
        strawberry.argument(description="The order of the list; by last name without it."),
    ] = None,
) -> Connection[ContactRow]:
    """ContactsByCompany: the company's contacts, a page at a time."""
    arguments = PageArguments(first, after, last, before)
    spec = CONTACTS_OF_COMPANY
    return await nested_page(info, spec, root.id, arguments, child_order(order_by))


async def _owners(
    root: strawberry.Parent[CompanyRow],
    info: Info[Context, None],
    first: First = NESTED_DEFAULT,
    order_by: OwnerOrderBy = None,
) -> list[OwnerRow]:
    return await owners_of(info, COMPANY_OWNERS, root, first, order_by)


async def _deals(
    root: strawberry.Parent[CompanyRow],
    info: Info[Context, None],
    first: NestedFirst = NESTED_PAGE_SIZE,
    after: After = None,
    last: Last = None,
    before: Before = None,
    order_by: DealOrderArgument = None,
) -> Connection[DealRow]:
    arguments = PageArguments(first, after, last, before)
    return await deals_page(info, "company_id", root.id, arguments, order_by)


async def _activities(
    root: strawberry.Parent[CompanyRow],
    info: Info[Context, None],
    first: NestedFirst = NESTED_PAGE_SIZE,
    after: After = None,
    last: Last = None,
    before: Before = None,
    order_by: ActivityOrderArgument = None,
) -> Connection[ActivityRow]:
    arguments = PageArguments(first, after, last, before)
    return await activities_page(info, "company_id", root.id, arguments, order_by)


async def _relationships(
    root: strawberry.Parent[CompanyRow],
    info: Info[Context, None],
    first: NestedFirst = NESTED_PAGE_SIZE,
    after: After = None,
    last: Last = None,
    before: Before = None,
    order_by: Annotated[
        CompanyRelationshipOrder | None,
        strawberry.argument(description="The order of the list; oldest first without it."),
    ] = None,
) -> Connection[RelationshipView]:
    arguments = PageArguments(first, after, last, before)
    return await relationships_page(info, root.id, arguments, child_order(order_by))


async def _contracts(
    root: strawberry.Parent[CompanyRow],
    info: Info[Context, None],
    first: NestedFirst = NESTED_PAGE_SIZE,
    after: After = None,
    last: Last = None,
    before: Before = None,
    order_by: ContractOrderArgument = None,
) -> Connection[ContractRow]:
    arguments = PageArguments(first, after, last, before)
    return await contracts_page(info, root.id, arguments, order_by)


async def _history(
    root: strawberry.Parent[CompanyRow],
    info: Info[Context, None],
    first: HistoryFirst = None,
    after: HistoryAfter = None,
    direction: HistoryDirection = OrderDirection.DESC,
) -> Connection[CrmEventMessage]:
    return await history_of(info, "company", root.id, first, after, direction)


async def _last_activity_at(
    root: strawberry.Parent[CompanyRow], info: Info[Context, None]
) -> datetime | None:
    return (await rollups_of(info, COMPANY_ROLLUPS, root.id)).last_activity_at


async def _next_activity_due_at(
    root: strawberry.Parent[CompanyRow], info: Info[Context, None]
) -> datetime | None:
    return (await rollups_of(info, COMPANY_ROLLUPS, root.id)).next_activity_due_at


async def _open_deal_count(root: strawberry.Parent[CompanyRow], info: Info[Context, None]) -> int:
    return (await rollups_of(info, COMPANY_ROLLUPS, root.id)).open_deal_count


async def _open_deal_value(
    root: strawberry.Parent[CompanyRow], info: Info[Context, None]
) -> list[MoneyAmount]:
    return (await rollups_of(info, COMPANY_ROLLUPS, root.id)).open_deal_value


@strawberry.type(
    description="A customer, prospect, supplier or partner organisation (Firma): its master "
    "data, people, deals, activities and contracts. Every role reads it; member and admin "
    "write it (createCompany, updateCompany, deleteCompany)."
)
class Company(Node):
    id: strawberry.ID = strawberry.field(description=texts.ID)
    name: str = strawberry.field(
        description="The company's legal or trading name as shown in lists, e.g. Müller "
        "Maschinenbau GmbH; 1-200 characters. Found by `search` (legal forms such as GmbH "
        "weigh nothing there)."
    )
    website: str | None = strawberry.field(
        description="Web address with scheme, e.g. https://www.mueller-maschinenbau.de (saved "
        "with https:// when typed without one); null: none. Its domain counts for duplicates."
    )
    industry_id: strawberry.ID | None = strawberry.field(
        description="The id of its industry (`industries`); null: none."
    )
    industry: Industry | None = relation_field(
        INDUSTRY_OF, _industry, "Its industry (Branche); null: none set."
    )
    account_type_id: strawberry.ID | None = strawberry.field(
        description="The id of its account type (`accountTypes`); null: none."
    )
    account_type: AccountType | None = relation_field(
        ACCOUNT_TYPE_OF, _account_type, "Its account type (customer, prospect, ...); null: none."
    )
    emails: list[Email] = relation_field(
        emails_relation("company_id"),
        _emails,
        "The company's general e-mail addresses (info@, rechnung@), the primary first; at "
        "most 20. A contact's own addresses are on the contact.",
    )
    phones: list[Phone] = relation_field(
        phones_relation("company_id"),
        _phones,
        "The company's general phone and fax numbers, the primary first; at most 20.",
    )
    contacts: Connection[ContactRef] = nested_connection(
        CONTACTS_OF_COMPANY, _contacts, "The people at this company, by last name."
    )
    owners: list[Owner] = relation_field(
        owners_relation(COMPANY_OWNERS),
        _owners,
        "The users responsible for, working on or watching the company: OWNER first, then by "
        "when they were added (or in `orderBy`).",
    )
    # No NESTED_PAGE metadata: the compiled path declines it (a relationship's direction
    # and other side depend on the company it is listed on; docs/ARCHITECTURE.md section 12).
    relationships: Connection[CompanyRelationship] = rows_field(
        _relationships,
        "This company's relationships to other companies, both directions (where it is the "
        "source and where it is the target; each seen from this company), oldest first.",
    )
    contracts: Connection[Contract] = nested_connection(
        CONTRACTS_OF_COMPANY,
        _contracts,
        "The contracts with this company, by end date (open-ended last).",
    )
    activities: Connection[ActivityRef] = nested_connection(
        ACTIVITIES_OF["company_id"],
        _activities,
        "The activities about this company itself (not its contacts' or deals'), newest "
        "first (all activities: activities(filter:)).",
    )
    deals: Connection[DealRef] = nested_connection(
        DEALS_OF["company_id"], _deals, "The deals with this company, newest first."
    )
    history: Connection[CrmEventType] = rows_field(
        _history, "Every change of this company (events), newest first."
    )
    lexware_vouchers: Connection[LexwareVoucher] = rows_field(
        vouchers_of_record,
        "Vouchers of the linked Lexware contact (cached), newest first (undated last); "
        "empty while the company is not linked to Lexware.",
    )
    status: EntityStatus = strawberry.field(description=texts.STATUS)
    vat_id: str | None = strawberry.field(
        description="USt-IdNr. with its check digit, compact, e.g. DE811907980; null: none. "
        "Checked when saved; the same VAT id on two companies marks them as strong duplicates."
    )
    tax_id: str | None = strawberry.field(
        description="Steuernummer as the tax office writes it, e.g. 143/123/45678; null: none."
    )
    trade_register_number: str | None = strawberry.field(
        description="Handelsregisternummer without the court, e.g. HRB 12345; null: none."
    )
    register_court: str | None = strawberry.field(
        description="Registergericht as the register names it, e.g. Stuttgart; null: none."
    )
    company_size: CompanySize | None = strawberry.field(
        description="Employee band (MICRO 1-9 ... ENTERPRISE 1000+); null: unknown."
    )
    billing_address: Address | None = strawberry.field(
        resolver=_billing_address,
        description="Where invoices go (Rechnungsadresse); null: none. Its postcode counts for "
        "duplicates (same name and postcode).",
    )
    delivery_address: Address | None = strawberry.field(
        resolver=_delivery_address,
        description="Where goods go (Lieferadresse), if not the billing address; null: none.",
    )
    data_enriched_at: datetime | None = strawberry.field(
        description="When the master data was last completed from an outside source (see "
        "dataEnrichmentSource), as the client sent it; null: never."
    )
    data_enrichment_source: str | None = strawberry.field(
        description="Where enriched master data came from (e.g. a register or data provider), "
        "up to 100 characters; null: none."
    )
    tags: list[str] = strawberry.field(description=texts.TAGS)
    notes: str | None = strawberry.field(description=texts.NOTES)
    lexware_contact_id: strawberry.ID | None = strawberry.field(
        description=texts.LEXWARE_CONTACT_ID
    )
    lexware_synced_at: datetime | None = strawberry.field(description=texts.LEXWARE_SYNCED_AT)
    version: int = strawberry.field(description=texts.VERSION)
    created_at: datetime = strawberry.field(description=texts.CREATED_AT)
    updated_at: datetime = strawberry.field(description=texts.UPDATED_AT)
    # Roll-ups (app/services/rollups/queries.py)
    last_activity_at: datetime | None = rollup_field(
        Rollup(COMPANY_ROLLUPS, "last_activity_at"), _last_activity_at, LAST_ACTIVITY_AT
    )
    next_activity_due_at: datetime | None = rollup_field(
        Rollup(COMPANY_ROLLUPS, "next_activity_due_at"), _next_activity_due_at, NEXT_ACTIVITY_DUE_AT
    )
    open_deal_count: int = rollup_field(
        Rollup(COMPANY_ROLLUPS, "open_deal_count"), _open_deal_count, OPEN_DEAL_COUNT
    )
    open_deal_value: list[Money] = rollup_field(
        Rollup(COMPANY_ROLLUPS, "open_deal_value"), _open_deal_value, OPEN_DEAL_VALUE
    )
    # Merges (app/services/merges)
    merged_from: list[strawberry.ID] = company_merged_from()
    merged_into: strawberry.ID | None = merged_into()
    # Duplicates (app/services/duplicates/): computed when asked for, priced in the query cost
    possible_duplicates: list[DuplicateCandidateRef] = possible_duplicates_field(
        DuplicateKind.COMPANY
    )
