"""Companies: create, update and delete, each with its e-mail and phone lists and owners in one
unit of work (reads: queries.py; what a valid company is: rules.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Row

from app.data import records
from app.data.changes import Tracked
from app.data.records import Dependent, Entity
from app.data.tenancy import TenantScope
from app.errors import Conflict, NotFound
from app.services.common.validation import Address, validate, validate_patch
from app.services.companies.rules import NOT_NULLABLE, CompanyInput, CompanyPatch
from app.services.contact_info.rules import ValueLists, split_values
from app.services.contact_info.service import create_with_values, list_steps
from app.services.lexware.rules import LEXWARE_BOOKKEEPING
from app.services.owners.service import COMPANY_OWNERS, new_record_owners, split_owners
from app.services.relationships.rules import RELATIONSHIP_EVENTS
from models import Activity, Company, CompanyRelationship, Contact, Deal

COMPANY = Entity(
    Company,
    "Company",
    {
        "fk_company_industry_id_industry": lambda: NotFound("Industry"),
        "fk_company_account_type_id_account_type": lambda: NotFound("Account type"),
        "uq_company_tenant_id_lexware_contact_id": lambda: Conflict(
            "This Lexware contact is already linked to another company."
        ),
        **COMPANY_OWNERS.entity.constraint_errors,  # owners named when it is created
    },
    Tracked("company", hidden=LEXWARE_BOOKKEEPING),
    (
        # Its deals before its contacts: the lock order of lexware_deal_parties (a deal, then
        # its company, then its contact), so that a delete never waits in a circle with a
        # voucher link or a deal update holding a deal and waiting for its contact.
        Dependent(Deal, "company_id", Tracked("deal")),
        Dependent(Contact, "company_id", Tracked("contact")),
        Dependent(Activity, "company_id", Tracked("activity"), kept_by=("contact_id", "deal_id")),
        Dependent(CompanyRelationship, "to_company_id", RELATIONSHIP_EVENTS, removes=True),
    ),
)
COLUMNS = COMPANY.columns


def _storable(values: Mapping[str, Any]) -> dict[str, Any]:
    """Nested inputs become the JSON the columns hold."""
    stored = dict(values)
    for key in ("billing_address", "delivery_address"):
        if isinstance(stored.get(key), Address):
            stored[key] = stored[key].model_dump()
    return stored


async def create_company(
    scope: TenantScope, data: Mapping[str, Any], system: records.SystemChange | None = None
) -> Row[Any]:
    """`system`: values the system adds (a Lexware link), with their events. Its owners:
    those named in `owners`, else its creator (owners.initial_owners)."""
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
) -> Row[Any]:
    """Change only the fields sent (`emails`/`phones` replace the whole lists); with
    `expected_version`, refuse a stale edit."""
    own, lists = split_values(data)
    values = _storable(validate_patch(CompanyPatch, NOT_NULLABLE, own))
    return await records.update_row(
        scope,
        COMPANY,
        company_id,
        {**values, **(system.values if system else {})},
        expected_version,
        steps=_steps(scope, lists, system),
    )


def _steps(
    scope: TenantScope, lists: ValueLists, system: records.SystemChange | None
) -> records.UpdateSteps | None:
    steps = list_steps(scope, "company_id", lists)
    return system.steps(COMPANY, steps) if system is not None else steps


async def delete_company(scope: TenantScope, company_id: uuid.UUID) -> uuid.UUID:
    return await records.delete_row(scope, COMPANY, company_id)
