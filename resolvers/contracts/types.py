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
from resolvers.common import shared_descriptions as texts
from resolvers.common.nested import NestedList, nested_page
from resolvers.common.pagination import Connection, PageArguments
from resolvers.common.relations import child_order
from resolvers.context import Context
from resolvers.contracts.inputs import ContractOrder
from resolvers.nodes.types import Node


@strawberry.type(
    description="A contract with a company (Rahmenvertrag, Wartungsvertrag, ...): its term, "
    "value and status. It belongs to its company and is hidden while the company is trashed. "
    "Every role reads it; member and admin write it."
)
class Contract(Node):
    id: strawberry.ID = strawberry.field(description=texts.ID)
    company_id: strawberry.ID = strawberry.field(description="The id of its company.")
    title: str = strawberry.field(
        description="What the contract is, e.g. Wartungsvertrag 2027; 1-200 characters."
    )
    number: str | None = strawberry.field(
        description="The contract number as the parties use it, up to 50 characters; null: none."
    )
    start_date: date | None = strawberry.field(
        description="First day of the term (a date, no time); null: not set."
    )
    end_date: date | None = strawberry.field(
        description="Last day of the term, not before startDate; null: open-ended."
    )
    value: Decimal | None = strawberry.field(
        description="The contract value in `currency`: 0 or more, at most 2 decimals and 12 "
        "digits before the point; null: not set."
    )
    currency: str = strawberry.field(
        description="ISO 4217 code of `value`, upper case, e.g. EUR (the default)."
    )
    status: ContractStatus = strawberry.field(description="Where the contract stands.")
    notes: str | None = strawberry.field(description=texts.NOTES)
    version: int = strawberry.field(description=texts.VERSION)
    created_at: datetime = strawberry.field(description=texts.CREATED_AT)
    updated_at: datetime = strawberry.field(description=texts.UPDATED_AT)


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
