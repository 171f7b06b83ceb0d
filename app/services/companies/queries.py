"""Reading companies: one by id, filtered keyset pages and counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import col

from app.data import records
from app.data.pagination import PageQuery, PageRequest, range_conditions
from app.data.sort_keys import enum_key, lowered_key, related, text_key, timestamp_key
from app.data.tenancy import TenantScope
from app.services.common.leakproof import ranked
from app.services.common.relation_filters import (
    Link,
    Quantified,
    Walk,
    conditions,
    owned_by_me,
    quantified,
    register,
    scalar,
)
from app.services.common.tags import tagged
from app.services.common.validation import check_filter
from app.services.companies.rows import CompanyRow
from app.services.companies.rules import COMPANY
from app.services.rollups.queries import (
    COMPANY_ROLLUPS,
    last_activity_key,
    next_activity_due_key,
    open_deal_count_key,
    sort_key_of,
)
from app.services.search.queries import search_condition
from app.services.search.rules import SearchKind
from models import (
    AccountType,
    Activity,
    Company,
    CompanyOwner,
    CompanySize,
    CompanyTag,
    Contact,
    Contract,
    Deal,
    EntityStatus,
    Industry,
)

if TYPE_CHECKING:
    from app.services.activities.queries import ActivityFilter
    from app.services.contacts.queries import ContactFilter
    from app.services.contracts.queries import ContractFilter
    from app.services.deals.queries import DealFilter
    from app.services.owners.queries import OwnerFilter

MAX_SEARCH_LENGTH = 200


class CompanyOrderField(Enum):
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    STATUS = "STATUS"
    COMPANY_SIZE = "COMPANY_SIZE"
    INDUSTRY = "INDUSTRY"
    ACCOUNT_TYPE = "ACCOUNT_TYPE"
    # Roll-ups (app/services/rollups)
    LAST_ACTIVITY_AT = "LAST_ACTIVITY_AT"
    NEXT_ACTIVITY_DUE_AT = "NEXT_ACTIVITY_DUE_AT"
    OPEN_DEAL_COUNT = "OPEN_DEAL_COUNT"
    OPEN_DEAL_VALUE = "OPEN_DEAL_VALUE"


_SORT_KEYS = {
    CompanyOrderField.NAME: text_key("name", col(Company.name_key)),
    CompanyOrderField.CREATED_AT: timestamp_key("createdAt", col(Company.created_at)),
    CompanyOrderField.UPDATED_AT: timestamp_key("updatedAt", col(Company.updated_at)),
    CompanyOrderField.STATUS: enum_key("status", col(Company.status_rank), EntityStatus),
    CompanyOrderField.COMPANY_SIZE: enum_key(
        "companySize", col(Company.company_size_rank), CompanySize, nullable=True
    ),
    # By the lookup's name; companies without one last.
    CompanyOrderField.INDUSTRY: lowered_key(
        "industry",
        related(col(Industry.name), col(Industry.id), col(Company.industry_id)),
        nullable=True,
    ),
    CompanyOrderField.ACCOUNT_TYPE: lowered_key(
        "accountType",
        related(col(AccountType.name), col(AccountType.id), col(Company.account_type_id)),
        nullable=True,
    ),
    CompanyOrderField.LAST_ACTIVITY_AT: last_activity_key(COMPANY_ROLLUPS),
    CompanyOrderField.NEXT_ACTIVITY_DUE_AT: next_activity_due_key(COMPANY_ROLLUPS),
    CompanyOrderField.OPEN_DEAL_COUNT: open_deal_count_key(COMPANY_ROLLUPS),
}


def company_order(
    order: CompanyOrderField, descending: bool, currency: str | None = None
) -> list[Any]:
    """ORDER BY of companies in this order (a nested list of them)."""
    return sort_key_of(_SORT_KEYS, order, COMPANY_ROLLUPS, currency).order_by(
        COMPANY.id, descending
    )


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
    # relation filters (app.services.common.relation_filters)
    owned_by_me: bool | None = None
    owners: Quantified[OwnerFilter] | None = None
    contacts: Quantified[ContactFilter] | None = None
    deals: Quantified[DealFilter] | None = None
    activities: Quantified[ActivityFilter] | None = None
    contracts: Quantified[ContractFilter] | None = None
    and_: tuple[CompanyFilter, ...] = ()
    or_: tuple[CompanyFilter, ...] | None = None
    not_: CompanyFilter | None = None


@dataclass(frozen=True)
class CompanyQuery:
    page: PageRequest
    filter: CompanyFilter = field(default_factory=CompanyFilter)
    order: CompanyOrderField = CompanyOrderField.NAME
    caller: uuid.UUID | None = None  # the user of `ownedByMe`
    currency: str | None = None  # OPEN_DEAL_VALUE's currency (rollups.check_currency)


def _where(query_filter: CompanyFilter) -> list[sa.ColumnElement[bool]]:
    check_filter(query_filter)
    conditions: list[sa.ColumnElement[bool]] = []
    if query_filter.statuses:
        conditions.append(ranked(col(Company.status_rank), query_filter.statuses))
    conditions += _search(query_filter.search)
    return conditions + _refinements(query_filter)


def _search(text: str | None) -> list[Any]:
    """The companies `search` finds for the text (app/services/search)."""
    return search_condition(SearchKind.COMPANY, col(Company.id), text)


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
        conditions.append(tagged(col(Company.id), col(CompanyTag.company_id), f.tag))
    if f.sizes:
        conditions.append(ranked(col(Company.company_size_rank), f.sizes))
    return conditions + range_conditions(
        (
            (col(Company.created_at), f.created_from, f.created_to),
            (col(Company.updated_at), f.updated_from, f.updated_to),
        )
    )


_COMPANY_ID = col(Company.id)
_OWNERS = Link("owners", Company, col(CompanyOwner.company_id), _COMPANY_ID)
_CONTACTS = Link("contacts", Company, col(Contact.company_id), _COMPANY_ID)
_DEALS = Link("deals", Company, col(Deal.company_id), _COMPANY_ID)
_ACTIVITIES = Link("activities", Company, col(Activity.company_id), _COMPANY_ID)
_CONTRACTS = Link("contracts", Company, col(Contract.company_id), _COMPANY_ID)


def _relations(f: CompanyFilter, walk: Walk) -> list[Any]:
    return [
        *owned_by_me(_OWNERS, col(CompanyOwner.user_id), f.owned_by_me, walk),
        *quantified(_OWNERS, f.owners, walk),
        *quantified(_CONTACTS, f.contacts, walk),
        *quantified(_DEALS, f.deals, walk),
        *quantified(_ACTIVITIES, f.activities, walk),
        *quantified(_CONTRACTS, f.contracts, walk),
    ]


register(CompanyFilter, scalar(_where), _relations)


def _filtered(query_filter: CompanyFilter, caller: uuid.UUID | None) -> list[Any]:
    return conditions(query_filter, Walk(caller))


def companies_page(query: CompanyQuery) -> PageQuery[CompanyRow]:
    where = _filtered(query.filter, query.caller)
    return PageQuery(
        COMPANY,
        where,
        sort_key_of(_SORT_KEYS, query.order, COMPANY_ROLLUPS, query.currency),
        query.page,
    )


async def count_companies(scope: TenantScope, query_filter: CompanyFilter) -> int:
    return await records.count_rows(scope, Company, _filtered(query_filter, scope.actor_id))


async def get_company(scope: TenantScope, company_id: uuid.UUID) -> CompanyRow:
    return await records.get_row(scope, COMPANY, company_id)
