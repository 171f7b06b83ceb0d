"""Reading contracts: one by id, filtered keyset pages and counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
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
from app.services.common.validation import check_filter
from app.services.contracts.rows import ContractRow
from app.services.contracts.rules import CONTRACT
from app.services.search.queries import search_condition
from app.services.search.rules import SearchKind
from models import Contract, ContractStatus

FAR_FUTURE = date(9999, 12, 31)


class ContractOrderField(Enum):
    END_DATE = "END_DATE"
    CREATED_AT = "CREATED_AT"


_SORT_KEYS = {
    # Open-ended contracts sort last (ascending).
    ContractOrderField.END_DATE: SortKey(
        "endDate",
        sa.func.coalesce(col(Contract.end_date), FAR_FUTURE),
        parse=lambda v: date.fromisoformat(str(v)),
    ),
    ContractOrderField.CREATED_AT: timestamp_key("createdAt", col(Contract.created_at)),
}


@dataclass(frozen=True)
class ContractFilter:
    company_id: uuid.UUID | None = None
    statuses: tuple[ContractStatus, ...] = ()
    search: str | None = None
    ends_from: date | None = None
    ends_to: date | None = None


@dataclass(frozen=True)
class ContractQuery:
    page: PageRequest
    filter: ContractFilter = field(default_factory=ContractFilter)
    order: ContractOrderField = ContractOrderField.END_DATE


def _where(f: ContractFilter) -> list[Any]:
    check_filter(f)
    conditions: list[Any] = []
    if f.company_id is not None:
        conditions.append(col(Contract.company_id) == f.company_id)
    if f.statuses:
        conditions.append(col(Contract.status).in_(f.statuses))
    conditions += search_condition(SearchKind.CONTRACT, col(Contract.id), f.search)
    return conditions + range_conditions(((col(Contract.end_date), f.ends_from, f.ends_to),))


def contracts_page(query: ContractQuery) -> PageQuery[ContractRow]:
    return PageQuery(CONTRACT, _where(query.filter), _SORT_KEYS[query.order], query.page)


async def count_contracts(scope: TenantScope, query_filter: ContractFilter) -> int:
    return await records.count_rows(scope, Contract, _where(query_filter))


async def get_contract(scope: TenantScope, contract_id: uuid.UUID) -> ContractRow:
    return await records.get_row(scope, CONTRACT, contract_id)
