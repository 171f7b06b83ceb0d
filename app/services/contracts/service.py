"""Contracts with companies: dates in order, filtered keyset pages."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import Field
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
from app.data.records import Entity
from app.data.tenancy import TenantScope
from app.errors import BadUserInput, FieldProblem, NotFound
from app.services.common.validation import (
    Input,
    Name200,
    Text50,
    check_filter,
    patch_model,
    validate,
    validate_patch,
)
from app.services.deals.service import Currency, Money
from models import Contract, ContractStatus

CONTRACT = Entity(
    Contract,
    "Contract",
    {
        "fk_contract_company_id_company": lambda: NotFound("Company"),
        "ck_contract_dates": lambda: BadUserInput.single("endDate", "must not be before startDate"),
    },
    Tracked("contract"),
)
FAR_FUTURE = date(9999, 12, 31)


class ContractInput(Input):
    company_id: uuid.UUID
    title: Name200
    number: Text50 = None
    start_date: date | None = None
    end_date: date | None = None
    value: Money | None = None
    currency: Currency = "EUR"
    status: ContractStatus = ContractStatus.DRAFT
    notes: Annotated[str | None, Field(max_length=20_000)] = None


ContractPatch, NOT_NULLABLE = patch_model(ContractInput)


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
    if f.search:
        if len(f.search) > 200:
            raise BadUserInput.single("filter.search", "must be at most 200 characters")
        pattern = like_pattern(f.search.strip())
        conditions.append(
            sa.or_(col(Contract.title).ilike(pattern), col(Contract.number).ilike(pattern))
        )
    return conditions + range_conditions(((col(Contract.end_date), f.ends_from, f.ends_to),))


def contracts_page(query: ContractQuery) -> PageQuery:
    return PageQuery(CONTRACT, _where(query.filter), _SORT_KEYS[query.order], query.page)


async def count_contracts(scope: TenantScope, query_filter: ContractFilter) -> int:
    return await records.count_rows(scope, Contract, _where(query_filter))


def _check_dates(start: Any, end: Any) -> None:
    if start is not None and end is not None and end < start:
        raise BadUserInput([FieldProblem("endDate", "must not be before startDate")])


async def get_contract(scope: TenantScope, contract_id: uuid.UUID) -> Row[Any]:
    return await records.get_row(scope, CONTRACT, contract_id)


async def create_contract(scope: TenantScope, data: Mapping[str, Any]) -> Row[Any]:
    values = validate(ContractInput, data).model_dump()
    _check_dates(values["start_date"], values["end_date"])
    return await records.insert_row(scope, CONTRACT, values)


async def update_contract(
    scope: TenantScope,
    contract_id: uuid.UUID,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Row[Any]:
    values = validate_patch(ContractPatch, NOT_NULLABLE, data)
    if {"start_date", "end_date"} & set(values):
        current = await get_contract(scope, contract_id)
        _check_dates(
            values.get("start_date", current.start_date), values.get("end_date", current.end_date)
        )
        # The database check (end >= start) still guards a concurrent change of the other date.
    return await records.update_row(scope, CONTRACT, contract_id, values, expected_version)


async def delete_contract(scope: TenantScope, contract_id: uuid.UUID) -> uuid.UUID:
    return await records.delete_row(scope, CONTRACT, contract_id)
