"""Adding and removing an owner of a company, contact or deal: what the owner mutations of the
three domains share. Both answer the record with its owners as they are after the change, so a
client's cache of the record's `owners` follows."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.data.records import Entity, RowT
from app.services.owners import rules, service
from models.enums import OwnerRole
from resolvers.common.inputs import parse_id
from resolvers.common.written import read_back
from resolvers.context import Context

OWNED = "The record with its owners as they are after the change."


async def add(
    info: Info[Context, None],
    kind: rules.OwnerKind,
    parent_entity: Entity[RowT],
    parent: strawberry.ID,
    user: strawberry.ID,
    role: OwnerRole,
    parent_field: str,
) -> RowT:
    parent_id = parse_id(parent, parent_field)
    scope = info.context.scope
    await service.add_owner(scope, kind, parent_id, parse_id(user, "userId"), role)
    return await read_back(info, parent_entity, parent_id)


async def remove(
    info: Info[Context, None],
    kind: rules.OwnerKind,
    parent_entity: Entity[RowT],
    parent: strawberry.ID,
    user: strawberry.ID,
    parent_field: str,
) -> RowT:
    parent_id = parse_id(parent, parent_field)
    await service.remove_owner(info.context.scope, kind, parent_id, parse_id(user, "userId"))
    return await read_back(info, parent_entity, parent_id)
