"""industries, accountTypes, relationshipTypes: plain lists, sorted by name."""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.types import Info

from app.data import records
from app.services.lookups import service
from resolvers.common.inputs import parse_id
from resolvers.common.relations import LIST_SIZE
from resolvers.context import Context
from resolvers.lookups.types import AccountType, Industry, RelationshipType
from resolvers.permissions import CanRead

# The query cost counts each list at the most a tenant may hold.
WHOLE_LIST = {LIST_SIZE: service.MAX_ENTRIES}


@strawberry.type
class LookupQueries:
    @strawberry.field(permission_classes=[CanRead])
    async def industry(self, info: Info[Context, None], id: strawberry.ID) -> Industry | None:
        row = await records.get_row(info.context.scope, service.INDUSTRY, parse_id(id))
        return cast(Industry, row)

    @strawberry.field(permission_classes=[CanRead])
    async def account_type(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> AccountType | None:
        row = await records.get_row(info.context.scope, service.ACCOUNT_TYPE, parse_id(id))
        return cast(AccountType, row)

    @strawberry.field(permission_classes=[CanRead])
    async def relationship_type(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> RelationshipType | None:
        scope = info.context.scope
        row = await records.get_row(scope, service.RELATIONSHIP_TYPE, parse_id(id))
        return cast(RelationshipType, row)

    @strawberry.field(permission_classes=[CanRead], metadata=WHOLE_LIST)
    async def industries(self, info: Info[Context, None]) -> list[Industry]:
        rows = await service.list_lookup(info.context.scope, service.INDUSTRY)
        return cast(list[Industry], rows)

    @strawberry.field(permission_classes=[CanRead], metadata=WHOLE_LIST)
    async def account_types(self, info: Info[Context, None]) -> list[AccountType]:
        rows = await service.list_lookup(info.context.scope, service.ACCOUNT_TYPE)
        return cast(list[AccountType], rows)

    @strawberry.field(permission_classes=[CanRead], metadata=WHOLE_LIST)
    async def relationship_types(self, info: Info[Context, None]) -> list[RelationshipType]:
        rows = await service.list_lookup(info.context.scope, service.RELATIONSHIP_TYPE)
        return cast(list[RelationshipType], rows)
