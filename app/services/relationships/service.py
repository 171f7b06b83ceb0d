"""Company-to-company relationships."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.engine import Row
from sqlmodel import col

from app.data import records
from app.data.pagination import Page, PageQuery, PageRequest, read_page, timestamp_key
from app.data.records import Entity
from app.data.tenancy import TenantScope
from app.errors import BadUserInput, Conflict, NotFound
from app.services.common.validation import Input, patch_model, validate, validate_patch
from app.services.relationships.rules import RELATIONSHIP_EVENTS
from models import CompanyRelationship

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
)


class RelationshipInput(Input):
    from_company_id: uuid.UUID
    to_company_id: uuid.UUID
    relationship_type_id: uuid.UUID
    notes: Annotated[str | None, Field(max_length=2000)] = None


async def create_relationship(scope: TenantScope, data: Mapping[str, Any]) -> Row[Any]:
    values = validate(RelationshipInput, data).model_dump()
    if values["from_company_id"] == values["to_company_id"]:
        raise BadUserInput.single("toCompanyId", "a company cannot be related to itself")
    return await records.insert_row(scope, RELATIONSHIP, values)


async def delete_relationship(scope: TenantScope, relationship_id: uuid.UUID) -> uuid.UUID:
    return await records.delete_row(scope, RELATIONSHIP, relationship_id)


async def relationships_of(
    scope: TenantScope, company_ids: Sequence[uuid.UUID]
) -> list[list[Row[Any]]]:
    """Both directions for each company, oldest first, in one statement."""
    wanted = set(company_ids)
    from_ = col(CompanyRelationship.from_company_id)
    to = col(CompanyRelationship.to_company_id)
    statement = (
        sa.select(*RELATIONSHIP.columns)
        .where(sa.or_(from_.in_(wanted), to.in_(wanted)))
        .order_by(col(CompanyRelationship.created_at), RELATIONSHIP.id)
    )
    grouped: dict[uuid.UUID, list[Row[Any]]] = {company_id: [] for company_id in company_ids}
    async with scope.reading() as session:
        for row in await session.execute(statement):
            for company_id in {row.from_company_id, row.to_company_id} & wanted:
                grouped[company_id].append(row)
    return [grouped[company_id] for company_id in company_ids]


class RelationshipChanges(Input):
    relationship_type_id: uuid.UUID
    notes: Annotated[str | None, Field(max_length=2000)] = None


RelationshipPatch, NOT_NULLABLE = patch_model(RelationshipChanges)


async def get_relationship(scope: TenantScope, relationship_id: uuid.UUID) -> Row[Any]:
    return await records.get_row(scope, RELATIONSHIP, relationship_id)


async def update_relationship(
    scope: TenantScope, relationship_id: uuid.UUID, data: Mapping[str, Any]
) -> Row[Any]:
    values = validate_patch(RelationshipPatch, NOT_NULLABLE, data)
    return await records.update_row(scope, RELATIONSHIP, relationship_id, values)


@dataclass(frozen=True)
class RelationshipFilter:
    company_id: uuid.UUID | None = None
    type_id: uuid.UUID | None = None


def _where(f: RelationshipFilter) -> list[Any]:
    conditions: list[Any] = []
    if f.company_id is not None:
        conditions.append(
            sa.or_(
                col(CompanyRelationship.from_company_id) == f.company_id,
                col(CompanyRelationship.to_company_id) == f.company_id,
            )
        )
    if f.type_id is not None:
        conditions.append(col(CompanyRelationship.relationship_type_id) == f.type_id)
    return conditions


_BY_CREATION = timestamp_key("createdAt", col(CompanyRelationship.created_at))


async def list_relationships(
    scope: TenantScope, f: RelationshipFilter, page: PageRequest
) -> Page[Row[Any]]:
    """By creation time (`page.descending` for newest first)."""
    return await read_page(scope, PageQuery(RELATIONSHIP, _where(f), _BY_CREATION, page))


async def count_relationships(scope: TenantScope, f: RelationshipFilter) -> int:
    return await records.count_rows(scope, CompanyRelationship, _where(f))
