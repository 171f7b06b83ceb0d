"""What a contract is (declarations, no I/O): the table as the services treat it and a valid
input, whole and as a patch, with its dates in order."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from pydantic import Field

from app.data.changes import Tracked
from app.data.records import Entity
from app.errors import BadUserInput, FieldProblem, NotFound
from app.services.common.validation import Input, Name200, Text50, patch_model
from app.services.contracts.rows import ContractRow
from app.services.deals.rules import Currency, Money
from models import Contract, ContractStatus

CONTRACT = Entity(
    Contract,
    "Contract",
    {
        "fk_contract_company_id_company": lambda: NotFound("Company"),
        "ck_contract_dates": lambda: BadUserInput.single("endDate", "must not be before startDate"),
    },
    Tracked("contract"),
    row=ContractRow,
)


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


def _check_dates(start: Any, end: Any) -> None:
    if start is not None and end is not None and end < start:
        raise BadUserInput([FieldProblem("endDate", "must not be before startDate")])
