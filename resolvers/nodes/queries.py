"""node(id) and nodes(ids): any record by its id, whatever its type (Relay's refetch).

The type is found on the server in one statement for all the ids of a request
(`app/services/nodes/queries.py: locate`, through a per-request loader, so several `node`
fields share it), then the rows come through the request's loaders, one statement per type.
An id that names nothing of the caller's tenant (unknown, another tenant's, in the trash)
answers null, the same answer whatever the reason; a malformed one is BAD_USER_INPUT, as it
is for `company(id:)`; an id merged away answers its survivor, as `company(id:)` does.

The compiled path declines both fields (they return an interface, and carry no ROWS
metadata: resolvers/compiled/plan.py raises NotCompilable), so the executor answers them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from functools import partial
from typing import Annotated, cast

import strawberry
from strawberry.types import Info

from app.errors import BadUserInput
from app.services.nodes.queries import Located, locate
from app.services.nodes.rows import NodeRow
from app.services.nodes.rules import KINDS, MAX_IDS
from resolvers.activities.types import Activity
from resolvers.common.inputs import parse_id
from resolvers.common.relations import LIST_LENGTH_OF, LIST_SIZE
from resolvers.companies.types import Company
from resolvers.contact_info.types import Email, Phone
from resolvers.contacts.types import Contact
from resolvers.context import Context
from resolvers.contracts.types import Contract
from resolvers.deals.types import Deal
from resolvers.lexware.vouchers import LexwareVoucher
from resolvers.lookups.types import AccountType, Industry, RelationshipType
from resolvers.me.types import User
from resolvers.nodes.types import Node
from resolvers.permissions import CanRead
from resolvers.pipelines.types import Pipeline, Stage
from resolvers.relationships.types import CompanyRelationship
from resolvers.search.types import RecordOf

# The GraphQL type of each kind of record (app/services/nodes/rules.py: KINDS, by table).
GRAPHQL_TYPES: dict[str, type] = {
    "company": Company,
    "contact": Contact,
    "deal": Deal,
    "activity": Activity,
    "contract": Contract,
    "pipeline": Pipeline,
    "pipeline_stage": Stage,
    "company_relationship": CompanyRelationship,
    "contact_email": Email,
    "contact_phone": Phone,
    "user": User,
    "industry": Industry,
    "account_type": AccountType,
    "relationship_type": RelationshipType,
    "lexware_voucher": LexwareVoucher,
}


async def _records(info: Info[Context, None], ids: Sequence[uuid.UUID]) -> list[NodeRow | None]:
    """The records the ids name, in order (None where an id names none)."""
    scope, loaders = info.context.scope, info.context.loaders
    kinds = loaders.custom("node_kinds", partial(locate, scope))
    located: list[Located | None] = list(await kinds.load_many(ids))
    by_kind: dict[str, list[uuid.UUID]] = {}
    for place in located:
        if place is not None:
            by_kind.setdefault(place.kind, []).append(place.id)
    # One loader per kind, loaded at once: one statement per kind for all the ids.
    loaded = await asyncio.gather(
        *(loaders.by_id(KINDS[kind].entity).load_many(ids) for kind, ids in by_kind.items())
    )
    rows = {
        (kind, record_id): row
        for (kind, ids_of_kind), rows_of_kind in zip(by_kind.items(), loaded, strict=True)
        for record_id, row in zip(ids_of_kind, rows_of_kind, strict=True)
    }
    records: list[NodeRow | None] = []
    for found in located:
        row = None if found is None else rows.get((found.kind, found.id))
        # A row carries no type: the cast tells the interface which one it is (and a row
        # trashed between the two statements reads as none).
        if found is None or row is None:
            records.append(None)
        else:
            typed = strawberry.cast(GRAPHQL_TYPES[found.kind], RecordOf(row))
            records.append(cast(NodeRow, typed))
    return records


@strawberry.type
class NodeQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="Any record by its id, whatever its type (Relay's refetch: `node(id: $id) "
        "{ __typename id ... on Company { name } }`). Null when the id names no record of "
        "yours: unknown, in the trash, or another organisation's, alike. An id merged into "
        "another company or contact answers that one (with its own id).",
        graphql_type=Node | None,
    )
    async def node(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The record's id.")],
    ) -> NodeRow | None:
        (record,) = await _records(info, [parse_id(id)])
        return record

    @strawberry.field(
        permission_classes=[CanRead],
        description=f"Records by their ids, whatever their types, in the order of the ids "
        f"(at most {MAX_IDS}); null where an id names no record of yours, as for `node`.",
        graphql_type=list[Node | None],
        metadata={LIST_LENGTH_OF: "ids", LIST_SIZE: MAX_IDS},
    )
    async def nodes(
        self,
        info: Info[Context, None],
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(
                description=f"The records' ids, at most {MAX_IDS}; an id may repeat."
            ),
        ],
    ) -> list[NodeRow | None]:
        if len(ids) > MAX_IDS:
            raise BadUserInput.single("ids", f"at most {MAX_IDS} ids, not {len(ids)}")
        parsed = [parse_id(value, f"ids[{index}]") for index, value in enumerate(ids)]
        return await _records(info, parsed)
