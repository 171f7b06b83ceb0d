"""What a company relationship is (declarations, no I/O): the table as the services treat it,
its events (about the company it starts from) and a valid input."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field

from app.data.changes import Tracked
from app.data.records import Entity
from app.errors import BadUserInput, Conflict, NotFound
from app.services.common.validation import Input, patch_model
from app.services.relationships.rows import RelationshipRow
from models import CompanyRelationship

# Events of a company relationship are about the company it starts from.
RELATIONSHIP_EVENTS = Tracked(
    "company",
    subject="from_company_id",
    created="relationship_added",
    updated="relationship_updated",
    deleted="relationship_removed",
)


RELATIONSHIP = Entity(
    CompanyRelationship,
    "Relationship",
    {
        "fk_company_relationship_from_company_id_company": lambda: NotFound("Company"),
        "fk_company_relationship_to_company_id_company": lambda: NotFound("Company"),
        "fk_company_relationship_relationship_type_id_relationship_type": lambda: NotFound(
            "Relationship type"
        ),
        "ck_company_relationship_not_self": lambda: BadUserInput.single(
            "toCompanyId", "a company cannot be related to itself"
        ),
        "uq_company_relationship_pair_type": lambda: Conflict(
            "These companies already have a relationship of this type (in either direction)."
        ),
    },
    RELATIONSHIP_EVENTS,
    row=RelationshipRow,
)


class RelationshipInput(Input):
    from_company_id: uuid.UUID
    to_company_id: uuid.UUID
    relationship_type_id: uuid.UUID
    notes: Annotated[str | None, Field(max_length=2000)] = None


class RelationshipChanges(Input):
    relationship_type_id: uuid.UUID
    notes: Annotated[str | None, Field(max_length=2000)] = None


RelationshipPatch, NOT_NULLABLE = patch_model(RelationshipChanges)
