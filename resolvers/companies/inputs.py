"""Company inputs, filter and order."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.services.companies.queries import CompanyOrderField
from resolvers.common.enums import CompanySize, EntityStatus, OrderDirection
from resolvers.common.inputs import SEARCH_FILTER
from resolvers.common.types import AddressInput
from resolvers.contact_info.types import EmailInput, PhoneInput
from resolvers.owners.types import CREATE_OWNERS, OwnerInput

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


@strawberry.input
class CompanyOrder:
    field: CompanyOrderField = CompanyOrderField.NAME
    direction: OrderDirection = OrderDirection.ASC
