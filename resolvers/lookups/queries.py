"""industries, accountTypes, relationshipTypes: plain lists, sorted by name."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.data import records
from app.services.lookups import queries, rules
from app.services.lookups.rows import AccountTypeRow, IndustryRow, RelationshipTypeRow
from resolvers.common.inputs import parse_id
from resolvers.common.relations import LIST_SIZE
from resolvers.common.shared_descriptions import ReadId
from resolvers.context import Context
from resolvers.lookups.types import AccountType, Industry, RelationshipType
from resolvers.permissions import CanRead

# The query cost counts each list at the most a tenant may hold.
WHOLE_LIST = {LIST_SIZE: rules.MAX_ENTRIES}


@strawberry.type
class LookupQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="One industry by id (every role).",
        graphql_type=Industry | None,
    )
    async def industry(self, info: Info[Context, None], id: ReadId) -> IndustryRow:
        return await records.get_row(info.context.scope, rules.INDUSTRY, parse_id(id))

    @strawberry.field(
        permission_classes=[CanRead],
        description="One account type by id (every role).",
        graphql_type=AccountType | None,
    )
    async def account_type(self, info: Info[Context, None], id: ReadId) -> AccountTypeRow:
        return await records.get_row(info.context.scope, rules.ACCOUNT_TYPE, parse_id(id))

    @strawberry.field(
        permission_classes=[CanRead],
        description="One relationship type by id (every role).",
        graphql_type=RelationshipType | None,
    )
    async def relationship_type(self, info: Info[Context, None], id: ReadId) -> RelationshipTypeRow:
        scope = info.context.scope
        return await records.get_row(scope, rules.RELATIONSHIP_TYPE, parse_id(id))

    @strawberry.field(
        permission_classes=[CanRead],
        metadata=WHOLE_LIST,
        description="All the tenant's industries, by name (every role; at most 200).",
        graphql_type=list[Industry],
    )
    async def industries(self, info: Info[Context, None]) -> list[IndustryRow]:
        return await queries.list_lookup(info.context.scope, rules.INDUSTRY)

    @strawberry.field(
        permission_classes=[CanRead],
        metadata=WHOLE_LIST,
        description="All the tenant's account types, by name (every role; at most 200).",
        graphql_type=list[AccountType],
    )
    async def account_types(self, info: Info[Context, None]) -> list[AccountTypeRow]:
        return await queries.list_lookup(info.context.scope, rules.ACCOUNT_TYPE)

    @strawberry.field(
        permission_classes=[CanRead],
        metadata=WHOLE_LIST,
        description="All the tenant's relationship types, by name (every role; at most 200).",
        graphql_type=list[RelationshipType],
    )
    async def relationship_types(self, info: Info[Context, None]) -> list[RelationshipTypeRow]:
        return await queries.list_lookup(info.context.scope, rules.RELATIONSHIP_TYPE)
