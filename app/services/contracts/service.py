"""Contracts with companies: create, update (dates in order) and delete (reads: queries.py;
what a valid contract is: rules.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from app.data import records, trash
from app.data.tenancy import TenantScope
from app.services.common.validation import validate, validate_patch
from app.services.contracts.queries import get_contract
from app.services.contracts.rows import ContractRow
from app.services.contracts.rules import (
    CONTRACT,
    NOT_NULLABLE,
    ContractInput,
    ContractPatch,
    _check_dates,
)


async def create_contract(scope: TenantScope, data: Mapping[str, Any]) -> ContractRow:
    values = validate(ContractInput, data).model_dump()
    _check_dates(values["start_date"], values["end_date"])
    return await records.insert_row(scope, CONTRACT, values)


async def update_contract(
    scope: TenantScope,
    contract_id: uuid.UUID,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> ContractRow:
    values = validate_patch(ContractPatch, NOT_NULLABLE, data)
    if {"start_date", "end_date"} & set(values):
        current = await get_contract(scope, contract_id)
        _check_dates(
            values.get("start_date", current.start_date), values.get("end_date", current.end_date)
        )
        # The database check (end >= start) still guards a concurrent change of the other date.
    return await records.update_row(scope, CONTRACT, contract_id, values, expected_version)


async def delete_contract(scope: TenantScope, contract_id: uuid.UUID) -> uuid.UUID:
    """Moves it to the trash (app.services.trash: restore, purge); links stay as they are."""
    return await trash.trash_row(scope, CONTRACT, contract_id)
