"""Reading companies: one by id, filtered keyset pages and counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.data import records
from app.data.pagination import (
    PageQuery,
    PageRequest,
    SortKey,
    range_conditions,
    timestamp_key,
)
from app.data.tenancy import TenantScope
from app.services.common.tags import has_tag
from app.services.common.validation import check_filter
from app.services.companies.rows import CompanyRow
from app.services.companies.rules import COMPANY
from app.services.search.queries import search_condition
from app.services.search.rules import SearchKind
from models import Company, CompanyOwner, CompanySize, EntityStatus


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


def _where(query_filter: CompanyFilter) -> list[sa.ColumnElement[bool]]:
    check_filter(query_filter)
    conditions: list[sa.ColumnElement[bool]] = []
    if query_filter.statuses:
        conditions.append(col(Company.status).in_(query_filter.statuses))
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
        conditions.append(has_tag(col(Company.tag_keys), f.tag))
    if f.sizes:
        conditions.append(col(Company.company_size).in_(f.sizes))
    return conditions + range_conditions(
        (
            (col(Company.created_at), f.created_from, f.created_to),
            (col(Company.updated_at), f.updated_from, f.updated_to),
        )
    )


def companies_page(query: CompanyQuery) -> PageQuery[CompanyRow]:
    return PageQuery(COMPANY, _where(query.filter), _SORT_KEYS[query.order], query.page)


async def count_companies(scope: TenantScope, query_filter: CompanyFilter) -> int:
    return await records.count_rows(scope, Company, _where(query_filter))


async def get_company(scope: TenantScope, company_id: uuid.UUID) -> CompanyRow:
    return await records.get_row(scope, COMPANY, company_id)
