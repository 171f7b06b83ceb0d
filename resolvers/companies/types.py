"""The Company type: plain attributes read straight from the row (no per-field resolvers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.types import Info

from resolvers.common.enums import CompanySize, EntityStatus
from resolvers.common.types import Address, address_from_json
from resolvers.lookups.loaders import account_type_by_id, industry_by_id
from resolvers.lookups.types import AccountType, Industry


def _billing_address(root: strawberry.Parent[Any]) -> Address | None:
    return address_from_json(root.billing_address)


def _delivery_address(root: strawberry.Parent[Any]) -> Address | None:
    return address_from_json(root.delivery_address)


async def _industry(root: strawberry.Parent[Any], info: Info[Any, Any]) -> Industry | None:
    if root.industry_id is None:
        return None
    return cast(Industry | None, await industry_by_id(info).load(root.industry_id))


async def _account_type(root: strawberry.Parent[Any], info: Info[Any, Any]) -> AccountType | None:
    if root.account_type_id is None:
        return None
    return cast(AccountType | None, await account_type_by_id(info).load(root.account_type_id))


@strawberry.type(description="A customer, prospect, supplier or partner organisation.")
class Company:
    id: strawberry.ID
    name: str
    website: str | None
    industry_id: strawberry.ID | None
    industry: Industry | None = strawberry.field(resolver=_industry)
    account_type_id: strawberry.ID | None
    account_type: AccountType | None = strawberry.field(resolver=_account_type)
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
