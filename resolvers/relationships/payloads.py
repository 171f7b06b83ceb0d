"""What the relationship mutations answer: the relationship and both of its companies, read
after the change, so each company's cached `relationships` follows without a refetch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Protocol

import strawberry
from strawberry.types import Info

from app.services.companies.rows import CompanyRow
from app.services.companies.rules import COMPANY
from app.services.relationships.rows import RelationshipRow
from resolvers.common.relations import rows_field
from resolvers.common.written import read_back, read_back_if
from resolvers.context import Context
from resolvers.relationships.types import CompanyRelationship, RelationshipView

if TYPE_CHECKING:
    from resolvers.companies.types import Company

CompanyRef = Annotated["Company", strawberry.lazy("resolvers.companies.types")]


class Related(Protocol):
    from_company_id: uuid.UUID
    to_company_id: uuid.UUID


@dataclass(frozen=True)
class RelationshipWritten:
    relationship: RelationshipView
    from_company_id: uuid.UUID
    to_company_id: uuid.UUID

    @classmethod
    def of(cls, row: RelationshipRow) -> RelationshipWritten:
        return cls(RelationshipView(row), row.from_company_id, row.to_company_id)


@dataclass(frozen=True)
class RelationshipRemoved:
    removed_id: uuid.UUID
    from_company_id: uuid.UUID
    to_company_id: uuid.UUID

    @classmethod
    def of(cls, row: RelationshipRow) -> RelationshipRemoved:
        return cls(row.id, row.from_company_id, row.to_company_id)


async def _from(root: strawberry.Parent[Related], info: Info[Context, None]) -> CompanyRow:
    return await read_back(info, COMPANY, root.from_company_id)


async def _to(root: strawberry.Parent[Related], info: Info[Context, None]) -> CompanyRow:
    return await read_back(info, COMPANY, root.to_company_id)


async def _from_if(
    root: strawberry.Parent[Related], info: Info[Context, None]
) -> CompanyRow | None:
    return await read_back_if(info, COMPANY, root.from_company_id)


async def _to_if(root: strawberry.Parent[Related], info: Info[Context, None]) -> CompanyRow | None:
    return await read_back_if(info, COMPANY, root.to_company_id)


FROM = "The company the relationship starts from, its `relationships` as they are now."
TO = "The company the relationship points to, its `relationships` as they are now."
GONE = " Null when the caller cannot see it (it is in the trash)."


@strawberry.type(
    description="A relationship that was created or changed, with both companies as they are "
    "after the change."
)
class CompanyRelationshipPayload:
    relationship: CompanyRelationship = strawberry.field(
        description="The relationship as stored now, seen from the company it starts from."
    )
    from_company: CompanyRef = rows_field(_from, FROM)
    to_company: CompanyRef = rows_field(_to, TO)


@strawberry.type(
    description="A relationship that was deleted, with both companies as they are after the change."
)
class CompanyRelationshipRemovalPayload:
    removed_id: strawberry.ID = strawberry.field(description="The id of the deleted relationship.")
    from_company: CompanyRef | None = rows_field(_from_if, FROM + GONE)
    to_company: CompanyRef | None = rows_field(_to_if, TO + GONE)
