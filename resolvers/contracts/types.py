"""Contract type and inputs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

import strawberry
from sqlmodel import col
from strawberry.types import Info

from app.services.relationships import CONTRACT
from models import Contract as ContractRow
from models.enums import ContractStatus
from resolvers.context import context_of


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


async def contracts_of(info: Info[Any, Any], company_id: Any) -> list[Contract]:
    """ContractsByCompanyLoader: by end date, open-ended last."""
    ordering = (col(ContractRow.end_date).nulls_last(), col(ContractRow.id))
    loader = context_of(info).loaders.by_parent(CONTRACT, "company_id", ordering)
    return cast(list[Contract], await loader.load(company_id))
