"""Companies: create, update and delete, each with its e-mail and phone lists and owners in one
unit of work (reads: queries.py; what a valid company is: rules.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from app.data import records, trash
from app.data.tenancy import TenantScope
from app.services.common.validation import Address, validate, validate_patch
from app.services.companies.rows import CompanyRow
from app.services.companies.rules import COMPANY, NOT_NULLABLE, CompanyInput, CompanyPatch
from app.services.contact_info.rules import split_values
from app.services.contact_info.service import create_with_values, update_with_values
from app.services.duplicates.rules import DuplicateKind
from app.services.duplicates.service import guarded
from app.services.owners.rules import COMPANY_OWNERS, split_owners
from app.services.owners.service import new_record_owners


def _storable(values: Mapping[str, Any]) -> dict[str, Any]:
    """Nested inputs become the JSON the columns hold."""
    stored = dict(values)
    for key in ("billing_address", "delivery_address"):
        if isinstance(stored.get(key), Address):
            stored[key] = stored[key].model_dump()
    return stored


async def create_company(
    scope: TenantScope, data: Mapping[str, Any], system: records.SystemChange | None = None
) -> CompanyRow:
    """`system`: values the system adds (a Lexware link), with their events. Its owners:
    those named in `owners`, else its creator (owners.initial_owners)."""
    data, system = guarded(scope, DuplicateKind.COMPANY, data, system)
    given, named = split_owners(data)
    own, lists = split_values(given)
    values = _storable(validate(CompanyInput, own).model_dump())
    values.update(system.values if system else {})
    statement = records.insert_statement(scope, COMPANY, values)
    owners = new_record_owners(scope, COMPANY_OWNERS, named)
    return await create_with_values(
        scope, COMPANY, statement, "company_id", lists, system, then=owners
    )


async def update_company(
    scope: TenantScope,
    company_id: uuid.UUID,
    data: Mapping[str, Any],
    expected_version: int | None = None,
    system: records.SystemChange | None = None,
) -> CompanyRow:
    """Change only the fields sent (`emails`/`phones` replace the whole lists); with
    `expected_version`, refuse a stale edit."""
    data, system = guarded(scope, DuplicateKind.COMPANY, data, system)
    own, lists = split_values(data)
    values = _storable(validate_patch(CompanyPatch, NOT_NULLABLE, own))
    return await update_with_values(
        scope, COMPANY, "company_id", company_id, values, lists, expected_version, system
    )


async def delete_company(scope: TenantScope, company_id: uuid.UUID) -> uuid.UUID:
    """Moves it to the trash (app.services.trash: restore, purge); links stay as they are."""
    return await trash.trash_row(scope, COMPANY, company_id)
