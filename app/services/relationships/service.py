"""Company-to-company relationships: create, update and delete (reads: queries.py; what a
valid relationship is: rules.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from app.data import records
from app.data.tenancy import TenantScope
from app.errors import BadUserInput
from app.services.common.validation import validate, validate_patch
from app.services.relationships.rows import RelationshipRow
from app.services.relationships.rules import (
    NOT_NULLABLE,
    RELATIONSHIP,
    RelationshipInput,
    RelationshipPatch,
)


async def create_relationship(scope: TenantScope, data: Mapping[str, Any]) -> RelationshipRow:
    values = validate(RelationshipInput, data).model_dump()
    if values["from_company_id"] == values["to_company_id"]:
        raise BadUserInput.single("toCompanyId", "a company cannot be related to itself")
    return await records.insert_row(scope, RELATIONSHIP, values)


async def delete_relationship(scope: TenantScope, relationship_id: uuid.UUID) -> RelationshipRow:
    """Delete it; returns it as it was (the mutation answers both companies)."""
    return await records.delete_returning(scope, RELATIONSHIP, relationship_id)


async def update_relationship(
    scope: TenantScope, relationship_id: uuid.UUID, data: Mapping[str, Any]
) -> RelationshipRow:
    values = validate_patch(RelationshipPatch, NOT_NULLABLE, data)
    return await records.update_row(scope, RELATIONSHIP, relationship_id, values)
