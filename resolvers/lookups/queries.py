"""industries, accountTypes, relationshipTypes: plain lists, sorted by name."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.types import Info

from app.data import records
from app.services.lookups import queries, rules
from resolvers.common.inputs import parse_id
from resolvers.common.relations import LIST_SIZE
from resolvers.context import context_of
from resolvers.lookups.types import AccountType, Industry, RelationshipType
from resolvers.permissions import CanRead

# The query cost counts each list at the most a tenant may hold.
WHOLE_LIST = {LIST_SIZE: rules.MAX_ENTRIES}


@strawberry.type
class LookupQueries:
    @strawberry.field(permission_classes=[CanRead])
    async def industry(self, info: Info[Any, Any], id: strawberry.ID) -> Industry | None:
        row = await records.get_row(context_of(info).scope, rules.INDUSTRY, parse_id(id))
        return cast(Industry, row)

    @strawberry.field(permission_classes=[CanRead])
    async def account_type(self, info: Info[Any, Any], id: strawberry.ID) -> AccountType | None:
        row = await records.get_row(context_of(info).scope, rules.ACCOUNT_TYPE, parse_id(id))
        return cast(AccountType, row)

    @strawberry.field(permission_classes=[CanRead])
    async def relationship_type(
        self, info: Info[Any, Any], id: strawberry.ID
    ) -> RelationshipType | None:
        scope = context_of(info).scope
        row = await records.get_row(scope, rules.RELATIONSHIP_TYPE, parse_id(id))
        return cast(RelationshipType, row)

    @strawberry.field(permission_classes=[CanRead], metadata=WHOLE_LIST)
    async def industries(self, info: Info[Any, Any]) -> list[Industry]:
        rows = await queries.list_lookup(context_of(info).scope, rules.INDUSTRY)
        return cast(list[Industry], rows)

    @strawberry.field(permission_classes=[CanRead], metadata=WHOLE_LIST)
    async def account_types(self, info: Info[Any, Any]) -> list[AccountType]:
        rows = await queries.list_lookup(context_of(info).scope, rules.ACCOUNT_TYPE)
        return cast(list[AccountType], rows)

    @strawberry.field(permission_classes=[CanRead], metadata=WHOLE_LIST)
    async def relationship_types(self, info: Info[Any, Any]) -> list[RelationshipType]:
        rows = await queries.list_lookup(context_of(info).scope, rules.RELATIONSHIP_TYPE)
        return cast(list[RelationshipType], rows)
