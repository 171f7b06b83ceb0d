"""createCompanyRelationship, updateCompanyRelationship, deleteCompanyRelationship: each
answers both companies as they are after the change (resolvers/relationships/payloads.py)."""

from __future__ import annotations

from typing import Annotated

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

_COMPANY = "Unknown, in the trash or another tenant's: NOT_FOUND; not a UUID: BAD_USER_INPUT."
_NOTES = "Free-text notes, up to 2,000 characters (more: BAD_USER_INPUT)"

FromCompanyId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="The company it starts from: the type's name reads from it (A is "
        f"supplier of B), and its events are about this company. {_COMPANY}"
    ),
]
ToCompanyId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="The company on the other side; not fromCompanyId (a company is not "
        f"related to itself: BAD_USER_INPUT). {_COMPANY}"
    ),
]
RelationshipId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="The relationship's id (`CompanyRelationship.id`). Unknown, another "
        "tenant's or of a company in the trash: NOT_FOUND; not a UUID: BAD_USER_INPUT."
    ),
]
_TYPE = (
    "Its relationship type (`relationshipTypes`); unknown or another tenant's: NOT_FOUND. Two "
    "companies have one relationship of a type, in either direction (a second: CONFLICT)."
)


@strawberry.type
class RelationshipMutations:
    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Relate two companies, e.g. as supplier or parent company (member, admin). "
        "Event crm.company.relationship_added about fromCompany. Answers the relationship and "
        "both companies as they are now (their `relationships` include it).",
        graphql_type=CompanyRelationshipPayload,
    )
    async def create_company_relationship(
        self,
        info: Info[Context, None],
        from_company_id: FromCompanyId,
        to_company_id: ToCompanyId,
        type_id: Annotated[strawberry.ID, strawberry.argument(description=_TYPE)],
        notes: Annotated[
            str | None, strawberry.argument(description=f"{_NOTES}; null: none.")
        ] = None,
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
        description="Change a relationship's type or notes (member, admin); its companies stay "
        "(to relate others, delete it and create a new one). Event "
        "crm.company.relationship_updated with what changed. Answers it and both companies.",
        graphql_type=CompanyRelationshipPayload,
    )
    async def update_company_relationship(
        self,
        info: Info[Context, None],
        id: RelationshipId,
        type_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description=f"{_TYPE} Not sent: unchanged; null: BAD_USER_INPUT."),
        ] = strawberry.UNSET,
        notes: Annotated[
            str | None,
            strawberry.argument(description=f"{_NOTES}. Not sent: unchanged; null clears them."),
        ] = strawberry.UNSET,
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
        description="Delete a relationship for good (member, admin; it has no trash). Event "
        "crm.company.relationship_removed. Answers its id and both companies as they are now.",
        graphql_type=CompanyRelationshipRemovalPayload,
    )
    async def delete_company_relationship(
        self, info: Info[Context, None], id: RelationshipId
    ) -> RelationshipRemoved:
        deleted = await service.delete_relationship(info.context.scope, parse_id(id))
        return RelationshipRemoved.of(deleted)
