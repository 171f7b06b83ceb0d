"""The Contract type and a company's contracts (its inputs, filter and order: inputs.py)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import strawberry
from sqlmodel import col
from strawberry.types import Info

import models
from app.services.contracts.queries import contract_order
from app.services.contracts.rows import ContractRow
from app.services.contracts.rules import CONTRACT
from models.enums import ContractStatus
from resolvers.common.children import children_of
from resolvers.common.relations import child_order
from resolvers.context import Context
from resolvers.contracts.inputs import ContractOrder
from resolvers.nodes.types import Node


@strawberry.type(description="A contract with a company.")
class Contract(Node):
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


_CONTRACT_ORDER = (col(models.Contract.end_date).nulls_last(), col(models.Contract.id))


async def contracts_of(
    info: Info[Context, None],
    company_id: uuid.UUID,
    first: int,
    order_by: ContractOrder | None = None,
) -> list[ContractRow]:
    """ContractsByCompanyLoader: by end date, open-ended last (or in `order_by`), at most
    `first`."""
    order = child_order(order_by)
    ordering = _CONTRACT_ORDER if order is None else contract_order(*order)
    return await children_of(info, CONTRACT, "company_id", company_id, first, ordering, order)
