"""A company's relationship, seen from that company."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from app.data.sort_keys import SortKey
from app.services.companies.rows import CompanyRow
from app.services.companies.rules import COMPANY
from app.services.lookups.rows import RelationshipTypeRow
from app.services.lookups.rules import RELATIONSHIP_TYPE
from app.services.relationships.queries import RELATIONSHIP_BY_CREATION
from app.services.relationships.rows import RelationshipRow
from app.services.relationships.rules import RELATIONSHIP
from resolvers.common import shared_descriptions as texts
from resolvers.common.nested import NestedList, nested_page_seen_from
from resolvers.common.pagination import Connection, PageArguments
from resolvers.common.relations import ChildOrder, rows_field
from resolvers.context import Context
from resolvers.lookups.types import RelationshipType
from resolvers.nodes.types import Node

if TYPE_CHECKING:
    from resolvers.companies.types import Company

CompanyRef = Annotated["Company", strawberry.lazy("resolvers.companies.types")]


async def _other(
    root: strawberry.Parent[RelationshipView], info: Info[Context, None]
) -> CompanyRow | None:
    return await info.context.loaders.by_id(COMPANY).load(root.other_company_id)


async def _from(
    root: strawberry.Parent[RelationshipView], info: Info[Context, None]
) -> CompanyRow | None:
    return await info.context.loaders.by_id(COMPANY).load(root.from_company_id)


async def _to(
    root: strawberry.Parent[RelationshipView], info: Info[Context, None]
) -> CompanyRow | None:
    return await info.context.loaders.by_id(COMPANY).load(root.to_company_id)


# `direction` and `otherCompany` depend on the company a relationship is listed under, while a
# normalized client cache (Apollo, Relay, urql) keeps one value per type and id: a response
# listing it under both companies (createCompanyRelationship's payload) would leave one side
# wrong. They stay for old clients; the cache-safe fields say the same from either side.
SEEN_FROM = (
    "Depends on the company it is listed under, and a normalized client cache keeps one "
    "value per id: use fromCompany/toCompany (compare fromCompanyId with the company's id)."
)


async def _type(
    root: strawberry.Parent[RelationshipView], info: Info[Context, None]
) -> RelationshipTypeRow | None:
    return await info.context.loaders.by_id(RELATIONSHIP_TYPE).load(root.relationship_type_id)


@strawberry.type(
    description="A relationship between two companies (parent company, supplier, partner, "
    "...; its type says which), seen from one of them: `otherCompany` is the other side. "
    "Every role reads it; member and admin write it. Hidden while either company is trashed."
)
class CompanyRelationship(Node):
    id: strawberry.ID = strawberry.field(description=texts.ID)
    direction: str = strawberry.field(
        description="OUTGOING when this company is the source, INCOMING when it is the target.",
        deprecation_reason=SEEN_FROM,
    )
    from_company_id: strawberry.ID = strawberry.field(
        description="The source company's id (the type's name reads from it: A is supplier of B)."
    )
    to_company_id: strawberry.ID = strawberry.field(description="The target company's id.")
    from_company: CompanyRef = rows_field(
        _from, "The source company: the type's `name` reads from it (A is supplier of B)."
    )
    to_company: CompanyRef = rows_field(
        _to, "The target company: the type's `inverseName` reads from it."
    )
    other_company_id: strawberry.ID = strawberry.field(
        description="The id of the company on the other side from the one it is seen from.",
        deprecation_reason=SEEN_FROM,
    )
    other_company: CompanyRef = rows_field(
        _other,
        "The company on the other side from the one it is seen from.",
        deprecation_reason=SEEN_FROM,
    )
    relationship_type_id: strawberry.ID = strawberry.field(
        description="The id of its relationship type."
    )
    type: RelationshipType = rows_field(
        _type, "Its type: `name` reads from the source, `inverseName` from the target."
    )
    notes: str | None = strawberry.field(
        description="Free-text notes, up to 2,000 characters; null: none."
    )
    created_at: datetime = strawberry.field(description=texts.CREATED_AT)


class RelationshipView:
    """A stored relationship as one of its two companies sees it (the source by default)."""

    id: uuid.UUID
    from_company_id: uuid.UUID
    to_company_id: uuid.UUID
    direction: str
    other_company_id: uuid.UUID
    relationship_type_id: uuid.UUID
    notes: str | None
    created_at: datetime

    def __init__(self, row: RelationshipRow, company_id: uuid.UUID | None = None) -> None:
        outgoing = company_id is None or row.from_company_id == company_id
        self.id = row.id
        self.from_company_id = row.from_company_id
        self.to_company_id = row.to_company_id
        self.direction = "OUTGOING" if outgoing else "INCOMING"
        self.other_company_id = row.to_company_id if outgoing else row.from_company_id
        self.relationship_type_id = row.relationship_type_id
        self.notes = row.notes
        self.created_at = row.created_at


def _relationship_sort_key(field: object) -> SortKey:
    return RELATIONSHIP_BY_CREATION  # the lists' one order (CREATED_AT)


# A company's relationships, both directions (source or target): oldest first unless
# `orderBy` says otherwise; the top-level list's order and cursors.
RELATIONSHIPS_OF = NestedList(
    RELATIONSHIP,
    "from_company_id",
    _relationship_sort_key,
    ("CREATED_AT", False),
    or_column="to_company_id",
)


async def relationships_page(
    info: Info[Context, None], company_id: uuid.UUID, arguments: PageArguments, order: ChildOrder
) -> Connection[RelationshipView]:
    """A company's relationships, a page at a time, each seen from that company (one
    statement per level for all companies, app/data/child_pages.py)."""
    return await nested_page_seen_from(
        info, RELATIONSHIPS_OF, company_id, arguments, order, RelationshipView
    )
