"""Contract inputs, filter and order."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from app.services.contracts.queries import ContractOrderField
from models.enums import ContractStatus
from resolvers.common.enums import OrderDirection
from resolvers.common.filters import AND, EVERY, LIST_FILTER, NONE, NOT, OR, SOME, TO_ONE

if TYPE_CHECKING:
    from resolvers.companies.inputs import CompanyFilter

from resolvers.common.inputs import SEARCH_FILTER

strawberry.enum(ContractOrderField, description="What contracts are sorted by.")


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
    search: str | None = strawberry.field(default=None, description=SEARCH_FILTER)
    ends_from: date | None = None
    ends_to: date | None = None
    company: Annotated[CompanyFilter, strawberry.lazy("resolvers.companies.inputs")] | None = (
        strawberry.field(default=None, description=TO_ONE)
    )
    and_: list[ContractFilter] | None = strawberry.field(default=None, name="and", description=AND)
    or_: list[ContractFilter] | None = strawberry.field(default=None, name="or", description=OR)
    not_: ContractFilter | None = strawberry.field(default=None, name="not", description=NOT)


@strawberry.input(description=f"{LIST_FILTER} (a company's contracts)")
class ContractListFilter:
    some: ContractFilter | None = strawberry.field(default=None, description=SOME)
    none: ContractFilter | None = strawberry.field(default=None, description=NONE)
    every: ContractFilter | None = strawberry.field(default=None, description=EVERY)


@strawberry.input
class ContractOrder:
    field: ContractOrderField = ContractOrderField.END_DATE
    direction: OrderDirection = OrderDirection.ASC
