"""createCompanyRelationship, updateCompanyRelationship, deleteCompanyRelationship: each
answers both companies as they are after the change (resolvers/relationships/payloads.py)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.services.relationships import service
from resolvers.common.inputs import parse_id
from resolvers.context import Context
from resolvers.permissions import CanWrite
from resolvers.relationships.payloads import (
    CompanyRelationshipPayload,
    CompanyRelationshipRemovalPayload,
    RelationshipRemoved,
    RelationshipWritten,
)


@strawberry.type
class RelationshipMutations:
    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Relate two companies; no self-relationship, no duplicate pair and type.",
        graphql_type=CompanyRelationshipPayload,
    )
    async def create_company_relationship(
        self,
        info: Info[Context, None],
        from_company_id: strawberry.ID,
        to_company_id: strawberry.ID,
        type_id: strawberry.ID,
        notes: str | None = None,
    ) -> RelationshipWritten:
        data = {
            "from_company_id": from_company_id,
            "to_company_id": to_company_id,
            "relationship_type_id": type_id,
            "notes": notes,
        }
        return RelationshipWritten.of(await service.create_relationship(info.context.scope, data))

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Change the type or notes.",
        graphql_type=CompanyRelationshipPayload,
    )
    async def update_company_relationship(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        type_id: strawberry.ID | None = strawberry.UNSET,
        notes: str | None = strawberry.UNSET,
    ) -> RelationshipWritten:
        data = {
            key: value
            for key, value in (("relationship_type_id", type_id), ("notes", notes))
            if value is not strawberry.UNSET
        }
        row = await service.update_relationship(info.context.scope, parse_id(id), data)
        return RelationshipWritten.of(row)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Delete a relationship.",
        graphql_type=CompanyRelationshipRemovalPayload,
    )
    async def delete_company_relationship(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> RelationshipRemoved:
        deleted = await service.delete_relationship(info.context.scope, parse_id(id))
        return RelationshipRemoved.of(deleted)
