"""Adding and removing an owner of a company, contact or deal: what the owner mutations of the
three domains share. Both answer the record with its owners as they are after the change, so a
client's cache of the record's `owners` follows."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.data.records import Entity, RowT
from app.services.owners import rules, service
from models.enums import OwnerRole
from resolvers.common.inputs import parse_id
from resolvers.common.written import read_back
from resolvers.context import Context


def adding(record: str) -> str:
    """What addCompanyOwner, addContactOwner and addDealOwner do, for the `record` it is."""
    return (
        f"Make a user an owner of the {record} in a role, or give one of its owners another "
        f"role (member, admin). Event crm.{record}.owner_added (owner_updated when an owner's "
        f"role changes). Answers the {record} with its owners as they are "
        "after the change."
    )


def removing(record: str) -> str:
    """What removeCompanyOwner, removeContactOwner and removeDealOwner do."""
    return (
        f"Take a user off the {record}'s owners (member, admin; the {record} may be left "
        f"with none). Event crm.{record}.owner_removed. Answers the {record} with its owners "
        "as they are after the change."
    )


OwnerUserId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="The user's id (`users`, `Owner.userId`). Unknown or another tenant's: "
        "NOT_FOUND; not a UUID: BAD_USER_INPUT."
    ),
]
RemovedUserId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="The owning user's id (`Owner.userId`). Not an owner of the record: "
        "NOT_FOUND; not a UUID: BAD_USER_INPUT."
    ),
]
OwnerRoleArgument = Annotated[
    OwnerRole,
    strawberry.argument(
        description="Their part in the record: OWNER when not sent. A user holds one role "
        "per record, so this replaces the role an owner has."
    ),
]


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
