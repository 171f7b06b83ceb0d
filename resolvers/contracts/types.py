"""The Contract type and a company's contracts (its inputs, filter and order: inputs.py)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.services.contracts.queries import ContractOrderField, contract_sort_key
from app.services.contracts.rows import ContractRow
from app.services.contracts.rules import CONTRACT
from models.enums import ContractStatus
from resolvers.common.nested import NestedList, nested_page
from resolvers.common.pagination import Connection, PageArguments
from resolvers.common.relations import child_order
from resolvers.context import Context
from resolvers.contracts.inputs import ContractOrder


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


# A company's contracts: by end date, open-ended last, unless `orderBy` says otherwise.
CONTRACTS_OF_COMPANY = NestedList(
    CONTRACT, "company_id", contract_sort_key, (ContractOrderField.END_DATE, False)
)
ContractOrderArgument = Annotated[
    ContractOrder | None,
    strawberry.argument(
        description="The order of the list; by end date, open-ended last, without it."
    ),
]


async def contracts_page(
    info: Info[Context, None],
    company_id: uuid.UUID,
    arguments: PageArguments,
    order_by: ContractOrder | None,
) -> Connection[ContractRow]:
    """A company's contracts, a page at a time (ContractsByCompany)."""
    spec = CONTRACTS_OF_COMPANY
    return await nested_page(info, spec, company_id, arguments, child_order(order_by))
