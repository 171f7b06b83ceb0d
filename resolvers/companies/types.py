"""The Company type: plain attributes read straight from the row (no per-field resolvers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from resolvers.common.enums import CompanySize, EntityStatus
from resolvers.common.types import Address, address_from_json


def _billing_address(root: strawberry.Parent[Any]) -> Address | None:
    return address_from_json(root.billing_address)


def _delivery_address(root: strawberry.Parent[Any]) -> Address | None:
    return address_from_json(root.delivery_address)


@strawberry.type(description="A customer, prospect, supplier or partner organisation.")
class Company:
    id: strawberry.ID
    name: str
    website: str | None
    industry_id: strawberry.ID | None
    account_type_id: strawberry.ID | None
    status: EntityStatus
    vat_id: str | None = strawberry.field(description="USt-IdNr., e.g. DE123456789.")
    tax_id: str | None = strawberry.field(description="Steuernummer.")
    trade_register_number: str | None = strawberry.field(description="Handelsregisternummer.")
    register_court: str | None = strawberry.field(description="Registergericht.")
    company_size: CompanySize | None
    billing_address: Address | None = strawberry.field(resolver=_billing_address)
    delivery_address: Address | None = strawberry.field(resolver=_delivery_address)
    data_enriched_at: datetime | None
    data_enrichment_source: str | None
    tags: list[str]
    notes: str | None
    lexware_contact_id: strawberry.ID | None
    lexware_synced_at: datetime | None
    version: int = strawberry.field(
        description="Increases with every change; send it as expectedVersion to avoid lost updates."
    )
    created_at: datetime
    updated_at: datetime
