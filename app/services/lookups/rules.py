"""What the admin-configurable lookup lists are (declarations, no I/O): industries, account types,
relationship types, and a valid entry of each.

Names are unique per tenant regardless of case. Deleting an industry or account type clears
it on companies (the foreign keys do that); a relationship type in use cannot be deleted.
A tenant holds at most MAX_ENTRIES of each list: the lists are read whole, and the query cost
counts them at that size (it counted MAX_PAGE_SIZE, whatever an admin had created)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from app.data import records
from app.data.changes import Tracked
from app.data.records import Dependent, Entity
from app.errors import Conflict
from app.services.common.validation import Input, Name100, Text100, Text500, patch_model
from app.services.lookups.rows import AccountTypeRow, IndustryRow, RelationshipTypeRow
from models import AccountType, Company, Industry, RelationshipType


def _check_color(value: str) -> str:
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
        raise ValueError("must be a colour as #RRGGBB, e.g. #2F6FDE")
    return value.upper()


Color = Annotated[str, AfterValidator(_check_color)]


def _name_taken(kind: str) -> records.ErrorFactory:
    return lambda: Conflict(f"An {kind} with this name already exists (names ignore case).")


INDUSTRY = Entity(
    Industry,
    "Industry",
    {"uq_industry_tenant_id_name": _name_taken("industry")},
    Tracked("industry"),
    (Dependent(Company, "industry_id", Tracked("company")),),
    row=IndustryRow,
)


ACCOUNT_TYPE = Entity(
    AccountType,
    "Account type",
    {"uq_account_type_tenant_id_name": _name_taken("account type")},
    Tracked("account_type"),
    (Dependent(Company, "account_type_id", Tracked("company")),),
    row=AccountTypeRow,
)


RELATIONSHIP_TYPE = Entity(
    RelationshipType,
    "Relationship type",
    {
        "uq_relationship_type_tenant_id_name": lambda: Conflict(
            "A relationship type with this name already exists (names ignore case)."
        ),
        "fk_company_relationship_relationship_type_id_relationship_type": lambda: Conflict(
            "This relationship type is in use by company relationships; remove those first."
        ),
    },
    Tracked("relationship_type"),
    row=RelationshipTypeRow,
)


class IndustryInput(Input):
    name: Name100
    color: Color | None = None


class AccountTypeInput(Input):
    name: Name100
    description: Text500 = None


class RelationshipTypeInput(Input):
    name: Name100
    inverse_name: Text100 = None


_INPUTS: dict[str, type[Input]] = {
    INDUSTRY.label: IndustryInput,
    ACCOUNT_TYPE.label: AccountTypeInput,
    RELATIONSHIP_TYPE.label: RelationshipTypeInput,
}


_PATCHES = {label: patch_model(model) for label, model in _INPUTS.items()}


MAX_ENTRIES = 200
