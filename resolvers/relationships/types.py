"""A company's relationship, seen from that company."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.types import Info

from app.data.pagination import clamp_first
from app.services.companies.rules import COMPANY
from app.services.lookups.rules import RELATIONSHIP_TYPE
from app.services.relationships.queries import relationships_of
from resolvers.context import context_of
from resolvers.lookups.types import RelationshipType

if TYPE_CHECKING:
    from resolvers.companies.types import Company

CompanyRef = Annotated["Company", strawberry.lazy("resolvers.companies.types")]


async def _other(root: strawberry.Parent[Any], info: Info[Any, Any]) -> CompanyRef:
    row = await context_of(info).loaders.by_id(COMPANY).load(root.other_company_id)
    return cast("Company", row)


async def _type(root: strawberry.Parent[Any], info: Info[Any, Any]) -> RelationshipType:
    row = await context_of(info).loaders.by_id(RELATIONSHIP_TYPE).load(root.relationship_type_id)
    return cast(RelationshipType, row)


@strawberry.type(description="A relationship between this company and another one.")
class CompanyRelationship:
    id: strawberry.ID
    direction: str = strawberry.field(
        description="OUTGOING when this company is the source, INCOMING when it is the target."
    )
    from_company_id: strawberry.ID
    to_company_id: strawberry.ID
    other_company_id: strawberry.ID
    other_company: CompanyRef = strawberry.field(resolver=_other)
    relationship_type_id: strawberry.ID
    type: RelationshipType = strawberry.field(resolver=_type)
    notes: str | None
    created_at: datetime


class RelationshipView:
    """A stored relationship as one of its two companies sees it (the source by default)."""

    def __init__(self, row: Any, company_id: Any = None) -> None:
        outgoing = company_id is None or row.from_company_id == company_id
        self.id = row.id
        self.from_company_id = row.from_company_id
        self.to_company_id = row.to_company_id
        self.direction = "OUTGOING" if outgoing else "INCOMING"
        self.other_company_id = row.to_company_id if outgoing else row.from_company_id
        self.relationship_type_id = row.relationship_type_id
        self.notes = row.notes
        self.created_at = row.created_at


async def relationships_for(
    info: Info[Any, Any], company_id: Any, first: int
) -> list[CompanyRelationship]:
    """RelationshipsByCompanyLoader: both directions, oldest first, at most `first`."""
    context = context_of(info)
    limit = clamp_first(first, default=50, maximum=context.settings.max_page_size)

    async def load(ids: list[Any]) -> list[list[Any]]:
        return await relationships_of(context.scope, ids)

    rows = await context.loaders.custom("relationships", load).load(company_id)
    # Relationships per company are few; the limit bounds the answer, cut here.
    return cast(
        list[CompanyRelationship], [RelationshipView(row, company_id) for row in rows[:limit]]
    )
