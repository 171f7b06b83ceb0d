"""Contract type and inputs."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import strawberry
from sqlmodel import col
from strawberry.types import Info

import models
from app.services.contracts.queries import ContractOrderField
from app.services.contracts.rows import ContractRow
from app.services.contracts.rules import CONTRACT
from models.enums import ContractStatus
from resolvers.common.children import children_of
from resolvers.common.enums import OrderDirection
from resolvers.context import Context

strawberry.enum(ContractOrderField, description="What contracts are sorted by.")


@strawberry.type(description="A contract with a company.")
class Contract:
    id: strawberry.ID
    company_id: strawberry.ID
    title: str
    number: str | None
    start_date: date | None
    end_date: date | None
    value: Decimal | None
    currency: str
    status: ContractStatus
    notes: str | None
    version: int
    created_at: datetime
    updated_at: datetime


@strawberry.input
class CreateContractInput:
    company_id: strawberry.ID
    title: str
    number: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    value: Decimal | None = None
    currency: str | None = strawberry.UNSET
    status: ContractStatus | None = strawberry.UNSET
    notes: str | None = None


@strawberry.input(description="Only the fields sent change.")
class UpdateContractInput:
    title: str | None = strawberry.UNSET
    number: str | None = strawberry.UNSET
    start_date: date | None = strawberry.UNSET
    end_date: date | None = strawberry.UNSET
    value: Decimal | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    status: ContractStatus | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET


@strawberry.input
class ContractFilter:
    company_id: strawberry.ID | None = None
    status: list[ContractStatus] | None = None
    search: str | None = strawberry.field(default=None, description="In title or number.")
    ends_from: date | None = None
    ends_to: date | None = None


@strawberry.input
class ContractOrder:
    field: ContractOrderField = ContractOrderField.END_DATE
    direction: OrderDirection = OrderDirection.ASC


_CONTRACT_ORDER = (col(models.Contract.end_date).nulls_last(), col(models.Contract.id))


async def contracts_of(
    info: Info[Context, None], company_id: uuid.UUID, first: int
) -> list[ContractRow]:
    """ContractsByCompanyLoader: by end date, open-ended last, at most `first`."""
    return await children_of(info, CONTRACT, "company_id", company_id, first, _CONTRACT_ORDER)
