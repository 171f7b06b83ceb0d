"""Company inputs, filter and order."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from app.services.companies.queries import CompanyOrderField
from resolvers.common import shared_descriptions as texts
from resolvers.common.described import described_enum
from resolvers.common.enums import CompanySize, EntityStatus, OrderDirection
from resolvers.common.filters import AND, NOT, OR, OWNED_BY_ME
from resolvers.common.inputs import SEARCH_FILTER
from resolvers.common.types import AddressInput
from resolvers.contact_info.types import EmailInput, PhoneInput
from resolvers.duplicates.inputs import REJECT_DUPLICATES
from resolvers.owners.types import CREATE_OWNERS, OwnerInput

if TYPE_CHECKING:
    from resolvers.activities.inputs import ActivityListFilter
    from resolvers.contacts.inputs import ContactListFilter
    from resolvers.contracts.inputs import ContractListFilter
    from resolvers.deals.inputs import DealListFilter
    from resolvers.owners.types import OwnerListFilter


TAGS = (
    "Kept as spelled; compared ignoring case, so `ERP` and `erp` are one tag (the first "
    "spelling stays)."
)
TAG_FILTER = "Records with this tag, in any case (`erp` finds `ERP`)."

described_enum(
    CompanyOrderField,
    "What companies are sorted by (records without the value last in both directions).",
    {
        "NAME": "Name, ignoring case.",
        "CREATED_AT": "When created.",
        "UPDATED_AT": "When last changed.",
        "STATUS": "Lifecycle state, in the order ACTIVE, INACTIVE, BLOCKED.",
        "COMPANY_SIZE": "Employee band, MICRO to ENTERPRISE.",
        "INDUSTRY": "The industry's name.",
        "ACCOUNT_TYPE": "The account type's name.",
        "LAST_ACTIVITY_AT": "When an activity of the company was last completed (lastActivityAt).",
        "NEXT_ACTIVITY_DUE_AT": "The earliest due date of its open activities (nextActivityDueAt).",
        "OPEN_DEAL_COUNT": "How many OPEN deals it has.",
        "OPEN_DEAL_VALUE": "The sum of its OPEN deals in `currency` (0 without one).",
    },
)


_NAME = "The legal or trading name, e.g. Müller Maschinenbau GmbH; 1-200 characters (trimmed)."
_WEBSITE = (
    "Web address, e.g. www.example.de (https:// is added when no scheme is typed); http or "
    "https with a real host name, at most 500 characters. Otherwise BAD_USER_INPUT."
)
_INDUSTRY = "An id from `industries`; unknown: NOT_FOUND."
_ACCOUNT_TYPE = "An id from `accountTypes`; unknown: NOT_FOUND."
_STATUS = "Lifecycle state; ACTIVE when not sent."
_VAT_ID = (
    "USt-IdNr. with its country prefix, in any spacing (`de 811 907 980`); checked with its "
    "check digit and stored compact (DE811907980). A wrong one: BAD_USER_INPUT."
)
_TAX_ID = (
    "Steuernummer in a state's form (10-11 digits, separators allowed, e.g. 143/123/45678) "
    "or the 13-digit nationwide form, at most 30 characters; stored as typed. A wrong one: "
    "BAD_USER_INPUT."
)
_TRADE_REGISTER = (
    "Handelsregisternummer, e.g. HRB 12345, at most 50 characters. Typed with its court "
    "(`Stuttgart HRB 12345`), the court moves to registerCourt; one that names another court "
    "than registerCourt is BAD_USER_INPUT."
)
_REGISTER_COURT = (
    "Registergericht, at most 100 characters: a German register court, stored by the name the "
    "register uses (`Amtsgericht München` and `AG Muenchen` become `München`); another one: "
    "BAD_USER_INPUT."
)
_SIZE = "Employee band; null: unknown."
_BILLING = "Invoice address (Rechnungsadresse); null: none."
_DELIVERY = "Delivery address (Lieferadresse), if not the billing address; null: none."
_ENRICHED_AT = f"When the master data was last completed from an outside source. {texts.MOMENT}"
_ENRICHMENT_SOURCE = "Where enriched data came from, at most 100 characters."


@strawberry.input(
    description="A new company. Only `name` is required; empty texts are stored as null. "
    "Member or admin."
)
class CreateCompanyInput:
    name: str = strawberry.field(description=_NAME)
    website: str | None = strawberry.field(default=None, description=_WEBSITE)
    industry_id: strawberry.ID | None = strawberry.field(default=None, description=_INDUSTRY)
    account_type_id: strawberry.ID | None = strawberry.field(
        default=None, description=_ACCOUNT_TYPE
    )
    status: EntityStatus | None = strawberry.field(default=strawberry.UNSET, description=_STATUS)
    vat_id: str | None = strawberry.field(default=None, description=_VAT_ID)
    tax_id: str | None = strawberry.field(default=None, description=_TAX_ID)
    trade_register_number: str | None = strawberry.field(default=None, description=_TRADE_REGISTER)
    register_court: str | None = strawberry.field(default=None, description=_REGISTER_COURT)
    company_size: CompanySize | None = strawberry.field(default=None, description=_SIZE)
    billing_address: AddressInput | None = strawberry.field(default=None, description=_BILLING)
    delivery_address: AddressInput | None = strawberry.field(default=None, description=_DELIVERY)
    data_enriched_at: datetime | None = strawberry.field(default=None, description=_ENRICHED_AT)
    data_enrichment_source: str | None = strawberry.field(
        default=None, description=_ENRICHMENT_SOURCE
    )
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description=TAGS)
    notes: str | None = strawberry.field(default=None, description=texts.NOTES)
    emails: list[EmailInput] | None = strawberry.field(
        default=strawberry.UNSET, description=texts.EMAILS_INPUT
    )
    phones: list[PhoneInput] | None = strawberry.field(
        default=strawberry.UNSET, description=texts.PHONES_INPUT
    )
    owners: list[OwnerInput] | None = strawberry.field(
        default=strawberry.UNSET, description=CREATE_OWNERS
    )
    reject_duplicates: bool = strawberry.field(default=False, description=REJECT_DUPLICATES)


@strawberry.input(
    description="Changes to a company: only the fields sent change; null clears a field that "
    "may be empty (null for `name`, `status` or `tags` is BAD_USER_INPUT). The rules of "
    "CreateCompanyInput apply."
)
class UpdateCompanyInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description=_NAME)
    website: str | None = strawberry.field(default=strawberry.UNSET, description=_WEBSITE)
    industry_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description=_INDUSTRY
    )
    account_type_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description=_ACCOUNT_TYPE
    )
    status: EntityStatus | None = strawberry.field(
        default=strawberry.UNSET, description="Lifecycle state."
    )
    vat_id: str | None = strawberry.field(default=strawberry.UNSET, description=_VAT_ID)
    tax_id: str | None = strawberry.field(default=strawberry.UNSET, description=_TAX_ID)
    trade_register_number: str | None = strawberry.field(
        default=strawberry.UNSET, description=_TRADE_REGISTER
    )
    register_court: str | None = strawberry.field(
        default=strawberry.UNSET, description=_REGISTER_COURT
    )
    company_size: CompanySize | None = strawberry.field(default=strawberry.UNSET, description=_SIZE)
    billing_address: AddressInput | None = strawberry.field(
        default=strawberry.UNSET, description=_BILLING
    )
    delivery_address: AddressInput | None = strawberry.field(
        default=strawberry.UNSET, description=_DELIVERY
    )
    data_enriched_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description=_ENRICHED_AT
    )
    data_enrichment_source: str | None = strawberry.field(
        default=strawberry.UNSET, description=_ENRICHMENT_SOURCE
    )
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description=TAGS)
    notes: str | None = strawberry.field(default=strawberry.UNSET, description=texts.NOTES)
    emails: list[EmailInput] | None = strawberry.field(
        default=strawberry.UNSET, description=texts.EMAILS_INPUT
    )
    phones: list[PhoneInput] | None = strawberry.field(
        default=strawberry.UNSET, description=texts.PHONES_INPUT
    )
    reject_duplicates: bool = strawberry.field(default=False, description=REJECT_DUPLICATES)


@strawberry.input(
    description="Which companies a list holds: every field that is set must match (null or "
    "not sent: no condition). Malformed ids and instants without offset: BAD_USER_INPUT."
)
class CompanyFilter:
    status: list[EntityStatus] | None = strawberry.field(
        default=None, description="Any of these states ([]: none matches)."
    )
    search: str | None = strawberry.field(default=None, description=SEARCH_FILTER)
    industry_id: strawberry.ID | None = strawberry.field(
        default=None, description="In this industry."
    )
    account_type_id: strawberry.ID | None = strawberry.field(
        default=None, description="Of this account type."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="A user id: this user is among the owners (any role)."
    )
    tag: str | None = strawberry.field(default=None, description=TAG_FILTER)
    size: list[CompanySize] | None = strawberry.field(
        default=None, description="Any of these employee bands ([]: none matches)."
    )
    created_from: datetime | None = strawberry.field(default=None, description=texts.CREATED_FROM)
    created_to: datetime | None = strawberry.field(default=None, description=texts.CREATED_TO)
    updated_from: datetime | None = strawberry.field(default=None, description=texts.UPDATED_FROM)
    updated_to: datetime | None = strawberry.field(default=None, description=texts.UPDATED_TO)
    owned_by_me: bool | None = strawberry.field(default=None, description=OWNED_BY_ME)
    owners: Annotated[OwnerListFilter, strawberry.lazy("resolvers.owners.types")] | None = (
        strawberry.field(default=None, description="Its owners (users with a role).")
    )
    contacts: Annotated[ContactListFilter, strawberry.lazy("resolvers.contacts.inputs")] | None = (
        strawberry.field(default=None, description="Its contacts (people at the company).")
    )
    deals: Annotated[DealListFilter, strawberry.lazy("resolvers.deals.inputs")] | None = (
        strawberry.field(default=None, description="Its deals.")
    )
    activities: (
        Annotated[ActivityListFilter, strawberry.lazy("resolvers.activities.inputs")] | None
    ) = strawberry.field(
        default=None,
        description=(
            "The activities linked to the company itself (not those linked only to one of "
            "its contacts)."
        ),
    )
    contracts: (
        Annotated[ContractListFilter, strawberry.lazy("resolvers.contracts.inputs")] | None
    ) = strawberry.field(default=None, description="Its contracts.")
    and_: list[CompanyFilter] | None = strawberry.field(default=None, name="and", description=AND)
    or_: list[CompanyFilter] | None = strawberry.field(default=None, name="or", description=OR)
    not_: CompanyFilter | None = strawberry.field(default=None, name="not", description=NOT)


@strawberry.input(description="How companies are sorted; ties by id, so paging is stable.")
class CompanyOrder:
    field: CompanyOrderField = strawberry.field(
        default=CompanyOrderField.NAME, description="What to sort by; NAME when not sent."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="ASC when not sent."
    )
    currency: str | None = strawberry.field(
        default=None,
        description="The currency OPEN_DEAL_VALUE compares (ISO 4217, default EUR): records "
        "by the sum of their open deals in it, 0 without one; other currencies do not count.",
    )
