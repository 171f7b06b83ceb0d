"""Companies: validation, listing with filters and keyset pages, create/update/delete."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlmodel import col

from app.data import records
from app.data.changes import Tracked
from app.data.pagination import (
    PageQuery,
    PageRequest,
    SortKey,
    like_pattern,
    range_conditions,
    timestamp_key,
)
from app.data.records import Dependent, Entity
from app.data.tenancy import TenantScope
from app.errors import BadUserInput, Conflict, NotFound
from app.services.common.tags import has_tag
from app.services.common.validation import (
    Address,
    Input,
    LongText,
    Moment,
    Name200,
    Tags,
    Text30,
    Text50,
    Text100,
    VatId,
    Website,
    check_filter,
    patch_model,
    validate,
    validate_patch,
)
from app.services.contact_info.rules import ValueLists, split_values
from app.services.contact_info.service import create_with_values, list_steps
from app.services.lexware.rules import LEXWARE_BOOKKEEPING
from app.services.owners.service import COMPANY_OWNERS, new_record_owners, split_owners
from app.services.relationships.rules import RELATIONSHIP_EVENTS
from models import (
    Activity,
    Company,
    CompanyOwner,
    CompanyRelationship,
    CompanySize,
    Contact,
    ContactEmail,
    Deal,
    EntityStatus,
)

MAX_SEARCH_LENGTH = 200


class CompanyInput(Input):
    name: Name200
    website: Website | None = None
    industry_id: uuid.UUID | None = None
    account_type_id: uuid.UUID | None = None
    status: EntityStatus = EntityStatus.ACTIVE
    vat_id: VatId | None = None
    tax_id: Text30 = None
    trade_register_number: Text50 = None
    register_court: Text100 = None
    company_size: CompanySize | None = None
    billing_address: Address | None = None
    delivery_address: Address | None = None
    data_enriched_at: Moment | None = None
    data_enrichment_source: Text100 = None
    tags: Tags = []
    notes: LongText = None


CompanyPatch, NOT_NULLABLE = patch_model(CompanyInput)

COMPANY = Entity(
    Company,
    "Company",
    {
        "fk_company_industry_id_industry": lambda: NotFound("Industry"),
        "fk_company_account_type_id_account_type": lambda: NotFound("Account type"),
        "uq_company_tenant_id_lexware_contact_id": lambda: Conflict(
            "This Lexware contact is already linked to another company."
        ),
        **COMPANY_OWNERS.entity.constraint_errors,  # owners named when it is created
    },
    Tracked("company", hidden=LEXWARE_BOOKKEEPING),
    (
        # Its deals before its contacts: the lock order of lexware_deal_parties (a deal, then
        # its company, then its contact), so that a delete never waits in a circle with a
        # voucher link or a deal update holding a deal and waiting for its contact.
        Dependent(Deal, "company_id", Tracked("deal")),
        Dependent(Contact, "company_id", Tracked("contact")),
        Dependent(Activity, "company_id", Tracked("activity"), kept_by=("contact_id", "deal_id")),
        Dependent(CompanyRelationship, "to_company_id", RELATIONSHIP_EVENTS, removes=True),
    ),
)
COLUMNS = COMPANY.columns


class CompanyOrderField(Enum):
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"


_SORT_KEYS = {
    CompanyOrderField.NAME: SortKey("name", sa.func.lower(col(Company.name))),
    CompanyOrderField.CREATED_AT: timestamp_key("createdAt", col(Company.created_at)),
    CompanyOrderField.UPDATED_AT: timestamp_key("updatedAt", col(Company.updated_at)),
}


@dataclass(frozen=True)
class CompanyFilter:
    statuses: tuple[EntityStatus, ...] = ()
    search: str | None = None
    industry_id: uuid.UUID | None = None
    account_type_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    tag: str | None = None
    sizes: tuple[CompanySize, ...] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None


@dataclass(frozen=True)
class CompanyQuery:
    page: PageRequest
    filter: CompanyFilter = field(default_factory=CompanyFilter)
    order: CompanyOrderField = CompanyOrderField.NAME


def _storable(values: Mapping[str, Any]) -> dict[str, Any]:
    """Nested inputs become the JSON the columns hold."""
    stored = dict(values)
    for key in ("billing_address", "delivery_address"):
        if isinstance(stored.get(key), Address):
            stored[key] = stored[key].model_dump()
    return stored


def _where(query_filter: CompanyFilter) -> list[sa.ColumnElement[bool]]:
    check_filter(query_filter)
    conditions: list[sa.ColumnElement[bool]] = []
    if query_filter.statuses:
        conditions.append(col(Company.status).in_(query_filter.statuses))
    if query_filter.search and len(query_filter.search) > MAX_SEARCH_LENGTH:
        raise BadUserInput.single(
            "filter.search", f"must be at most {MAX_SEARCH_LENGTH} characters"
        )
    if query_filter.search:
        conditions.append(_search(query_filter.search))
    return conditions + _refinements(query_filter)


def _search(text: str) -> Any:
    """Name, VAT id or one of the company's e-mail addresses."""
    pattern = like_pattern(text.strip())
    email = sa.select(col(ContactEmail.id)).where(
        col(ContactEmail.company_id) == col(Company.id), col(ContactEmail.email).ilike(pattern)
    )
    return sa.or_(
        col(Company.name).ilike(pattern), col(Company.vat_id).ilike(pattern), email.exists()
    )


def _refinements(f: CompanyFilter) -> list[Any]:
    conditions: list[Any] = []
    equal: tuple[tuple[Any, Any], ...] = (
        (col(Company.industry_id), f.industry_id),
        (col(Company.account_type_id), f.account_type_id),
    )
    conditions += [column == value for column, value in equal if value is not None]
    if f.owner_id is not None:
        owned = sa.select(col(CompanyOwner.id)).where(
            col(CompanyOwner.company_id) == col(Company.id), col(CompanyOwner.user_id) == f.owner_id
        )
        conditions.append(owned.exists())
    if f.tag:
        conditions.append(has_tag(col(Company.tag_keys), f.tag))
    if f.sizes:
        conditions.append(col(Company.company_size).in_(f.sizes))
    return conditions + range_conditions(
        (
            (col(Company.created_at), f.created_from, f.created_to),
            (col(Company.updated_at), f.updated_from, f.updated_to),
        )
    )


def companies_page(query: CompanyQuery) -> PageQuery:
    return PageQuery(COMPANY, _where(query.filter), _SORT_KEYS[query.order], query.page)


async def count_companies(scope: TenantScope, query_filter: CompanyFilter) -> int:
    return await records.count_rows(scope, Company, _where(query_filter))


async def get_company(scope: TenantScope, company_id: uuid.UUID) -> Row[Any]:
    return await records.get_row(scope, COMPANY, company_id)


async def create_company(
    scope: TenantScope, data: Mapping[str, Any], system: records.SystemChange | None = None
) -> Row[Any]:
    """`system`: values the system adds (a Lexware link), with their events. Its owners:
    those named in `owners`, else its creator (owners.initial_owners)."""
    given, named = split_owners(data)
    own, lists = split_values(given)
    values = _storable(validate(CompanyInput, own).model_dump())
    values.update(system.values if system else {})
    statement = records.insert_statement(scope, COMPANY, values)
    owners = new_record_owners(scope, COMPANY_OWNERS, named)
    return await create_with_values(
        scope, COMPANY, statement, "company_id", lists, system, then=owners
    )


async def update_company(
    scope: TenantScope,
    company_id: uuid.UUID,
    data: Mapping[str, Any],
    expected_version: int | None = None,
    system: records.SystemChange | None = None,
) -> Row[Any]:
    """Change only the fields sent (`emails`/`phones` replace the whole lists); with
    `expected_version`, refuse a stale edit."""
    own, lists = split_values(data)
    values = _storable(validate_patch(CompanyPatch, NOT_NULLABLE, own))
    return await records.update_row(
        scope,
        COMPANY,
        company_id,
        {**values, **(system.values if system else {})},
        expected_version,
        steps=_steps(scope, lists, system),
    )


def _steps(
    scope: TenantScope, lists: ValueLists, system: records.SystemChange | None
) -> records.UpdateSteps | None:
    steps = list_steps(scope, "company_id", lists)
    return system.steps(COMPANY, steps) if system is not None else steps


async def delete_company(scope: TenantScope, company_id: uuid.UUID) -> uuid.UUID:
    return await records.delete_row(scope, COMPANY, company_id)
