"""Reading contracts: one by id, filtered keyset pages and counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlmodel import col

from app.data import records
from app.data.pagination import PageQuery, PageRequest, range_conditions
from app.data.sort_keys import SortKey, date_key, enum_key, money_key, text_key, timestamp_key
from app.data.tenancy import TenantScope
from app.services.common.leakproof import ranked
from app.services.common.relation_filters import Link, Walk, conditions, register, scalar, to_one
from app.services.common.validation import check_filter
from app.services.contracts.rows import ContractRow
from app.services.contracts.rules import CONTRACT
from app.services.search.queries import search_condition
from app.services.search.rules import SearchKind
from models import Company, Contract, ContractStatus

if TYPE_CHECKING:
    from app.services.companies.queries import CompanyFilter


class ContractOrderField(Enum):
    END_DATE = "END_DATE"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    START_DATE = "START_DATE"
    TITLE = "TITLE"
    VALUE = "VALUE"
    STATUS = "STATUS"


_SORT_KEYS = {
    # Open-ended contracts last, in both directions.
    ContractOrderField.END_DATE: date_key("endDate", col(Contract.end_date), nullable=True),
    ContractOrderField.CREATED_AT: timestamp_key("createdAt", col(Contract.created_at)),
    ContractOrderField.UPDATED_AT: timestamp_key("updatedAt", col(Contract.updated_at)),
    ContractOrderField.START_DATE: date_key("startDate", col(Contract.start_date), nullable=True),
    ContractOrderField.TITLE: text_key("title", col(Contract.title_key)),
    ContractOrderField.VALUE: money_key("value", col(Contract.value_cents), nullable=True),
    ContractOrderField.STATUS: enum_key("status", col(Contract.status_rank), ContractStatus),
}


def contract_sort_key(order: ContractOrderField) -> SortKey:
    """The contracts list's sort key of `order` (a nested list pages by it too)."""
    return _SORT_KEYS[order]


@dataclass(frozen=True)
class ContractFilter:
    company_id: uuid.UUID | None = None
    statuses: tuple[ContractStatus, ...] = ()
    search: str | None = None
    ends_from: date | None = None
    ends_to: date | None = None
    # relation filters (app.services.common.relation_filters)
    company: CompanyFilter | None = None
    and_: tuple[ContractFilter, ...] = ()
    or_: tuple[ContractFilter, ...] | None = None
    not_: ContractFilter | None = None


@dataclass(frozen=True)
class ContractQuery:
    page: PageRequest
    filter: ContractFilter = field(default_factory=ContractFilter)
    order: ContractOrderField = ContractOrderField.END_DATE
    caller: uuid.UUID | None = None  # the user of `ownedByMe` at a nested level


def _where(f: ContractFilter) -> list[Any]:
    check_filter(f)
    conditions: list[Any] = []
    if f.company_id is not None:
        conditions.append(col(Contract.company_id) == f.company_id)
    if f.statuses:
        conditions.append(ranked(col(Contract.status_rank), f.statuses))
    conditions += search_condition(SearchKind.CONTRACT, col(Contract.id), f.search)
    return conditions + range_conditions(((col(Contract.end_date), f.ends_from, f.ends_to),))


_COMPANY = Link("company", Contract, col(Company.id), col(Contract.company_id))


def _relations(f: ContractFilter, walk: Walk) -> list[Any]:
    return to_one(_COMPANY, f.company, walk)


register(ContractFilter, scalar(_where), _relations)


def _filtered(query_filter: ContractFilter, caller: uuid.UUID | None) -> list[Any]:
    return conditions(query_filter, Walk(caller))


def contracts_page(query: ContractQuery) -> PageQuery[ContractRow]:
    where = _filtered(query.filter, query.caller)
    return PageQuery(CONTRACT, where, _SORT_KEYS[query.order], query.page)


async def count_contracts(scope: TenantScope, query_filter: ContractFilter) -> int:
    return await records.count_rows(scope, Contract, _filtered(query_filter, scope.actor_id))


async def get_contract(scope: TenantScope, contract_id: uuid.UUID) -> ContractRow:
    return await records.get_row(scope, CONTRACT, contract_id)
