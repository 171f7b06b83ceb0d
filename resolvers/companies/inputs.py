"""Company inputs, filter and order."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from app.services.companies.queries import CompanyOrderField
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

strawberry.enum(CompanyOrderField, description="What companies are sorted by.")


@strawberry.input
class CreateCompanyInput:
    name: str
    website: str | None = None
    industry_id: strawberry.ID | None = None
    account_type_id: strawberry.ID | None = None
    status: EntityStatus | None = strawberry.UNSET
    vat_id: str | None = None
    tax_id: str | None = None
    trade_register_number: str | None = None
    register_court: str | None = None
    company_size: CompanySize | None = None
    billing_address: AddressInput | None = None
    delivery_address: AddressInput | None = None
    data_enriched_at: datetime | None = None
    data_enrichment_source: str | None = None
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description=TAGS)
    notes: str | None = None
    emails: list[EmailInput] | None = strawberry.UNSET
    phones: list[PhoneInput] | None = strawberry.UNSET
    owners: list[OwnerInput] | None = strawberry.field(
        default=strawberry.UNSET, description=CREATE_OWNERS
    )
    reject_duplicates: bool = strawberry.field(default=False, description=REJECT_DUPLICATES)


@strawberry.input(description="Only the fields sent change; null clears a field that may be empty.")
class UpdateCompanyInput:
    name: str | None = strawberry.UNSET
    website: str | None = strawberry.UNSET
    industry_id: strawberry.ID | None = strawberry.UNSET
    account_type_id: strawberry.ID | None = strawberry.UNSET
    status: EntityStatus | None = strawberry.UNSET
    vat_id: str | None = strawberry.UNSET
    tax_id: str | None = strawberry.UNSET
    trade_register_number: str | None = strawberry.UNSET
    register_court: str | None = strawberry.UNSET
    company_size: CompanySize | None = strawberry.UNSET
    billing_address: AddressInput | None = strawberry.UNSET
    delivery_address: AddressInput | None = strawberry.UNSET
    data_enriched_at: datetime | None = strawberry.UNSET
    data_enrichment_source: str | None = strawberry.UNSET
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description=TAGS)
    notes: str | None = strawberry.UNSET
    emails: list[EmailInput] | None = strawberry.UNSET
    phones: list[PhoneInput] | None = strawberry.UNSET
    reject_duplicates: bool = strawberry.field(default=False, description=REJECT_DUPLICATES)


@strawberry.input
class CompanyFilter:
    status: list[EntityStatus] | None = None
    search: str | None = strawberry.field(default=None, description=SEARCH_FILTER)
    industry_id: strawberry.ID | None = None
    account_type_id: strawberry.ID | None = None
    owner_id: strawberry.ID | None = strawberry.field(default=None, description="A user id.")
    tag: str | None = strawberry.field(default=None, description=TAG_FILTER)
    size: list[CompanySize] | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    owned_by_me: bool | None = strawberry.field(default=None, description=OWNED_BY_ME)
    owners: Annotated[OwnerListFilter, strawberry.lazy("resolvers.owners.types")] | None = None
    contacts: Annotated[ContactListFilter, strawberry.lazy("resolvers.contacts.inputs")] | None = (
        None
    )
    deals: Annotated[DealListFilter, strawberry.lazy("resolvers.deals.inputs")] | None = None
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
    ) = None
    and_: list[CompanyFilter] | None = strawberry.field(default=None, name="and", description=AND)
    or_: list[CompanyFilter] | None = strawberry.field(default=None, name="or", description=OR)
    not_: CompanyFilter | None = strawberry.field(default=None, name="not", description=NOT)


@strawberry.input
class CompanyOrder:
    field: CompanyOrderField = CompanyOrderField.NAME
    direction: OrderDirection = OrderDirection.ASC
    currency: str | None = strawberry.field(
        default=None,
        description="The currency OPEN_DEAL_VALUE compares (ISO 4217, default EUR): records "
        "by the sum of their open deals in it, 0 without one; other currencies do not count.",
    )
