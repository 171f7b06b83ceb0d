"""Reading company relationships: one by id, filtered keyset pages and counts (a company's
own, both directions, page through resolvers/relationships/types.py: RELATIONSHIPS_OF)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import col

from app.data import records
from app.data.pagination import Page, PageQuery, PageRequest, read_page
from app.data.sort_keys import timestamp_key
from app.data.tenancy import TenantScope
from app.services.common.relation_filters import Link, Walk, conditions, register, to_one
from app.services.relationships.rows import RelationshipRow
from app.services.relationships.rules import RELATIONSHIP
from models import Company, CompanyRelationship

if TYPE_CHECKING:
    from app.services.companies.queries import CompanyFilter


async def get_relationship(scope: TenantScope, relationship_id: uuid.UUID) -> RelationshipRow:
    return await records.get_row(scope, RELATIONSHIP, relationship_id)


@dataclass(frozen=True)
class RelationshipFilter:
    company_id: uuid.UUID | None = None
    type_id: uuid.UUID | None = None
    # relation filters (app.services.common.relation_filters)
    from_company: CompanyFilter | None = None
    to_company: CompanyFilter | None = None
    and_: tuple[RelationshipFilter, ...] = ()
    or_: tuple[RelationshipFilter, ...] | None = None
    not_: RelationshipFilter | None = None


def _where(f: RelationshipFilter, _walk: Walk) -> list[Any]:
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


_FROM = Link(
    "fromCompany", CompanyRelationship, col(Company.id), col(CompanyRelationship.from_company_id)
)
_TO = Link(
    "toCompany", CompanyRelationship, col(Company.id), col(CompanyRelationship.to_company_id)
)


def _relations(f: RelationshipFilter, walk: Walk) -> list[Any]:
    return [*to_one(_FROM, f.from_company, walk), *to_one(_TO, f.to_company, walk)]


register(RelationshipFilter, _where, _relations)


def _filtered(f: RelationshipFilter, scope: TenantScope) -> list[Any]:
    return conditions(f, Walk(scope.actor_id))


# The lists' one order (top-level and `company.relationships`: their cursors are the same)
RELATIONSHIP_BY_CREATION = timestamp_key("createdAt", col(CompanyRelationship.created_at))


async def list_relationships(
    scope: TenantScope, f: RelationshipFilter, page: PageRequest
) -> Page[RelationshipRow]:
    """By creation time (`page.descending` for newest first)."""
    return await read_page(
        scope, PageQuery(RELATIONSHIP, _filtered(f, scope), RELATIONSHIP_BY_CREATION, page)
    )


async def count_relationships(scope: TenantScope, f: RelationshipFilter) -> int:
    return await records.count_rows(scope, CompanyRelationship, _filtered(f, scope))
