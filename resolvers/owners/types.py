"""Owner: a user with a role on a company, contact or deal."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Annotated

import strawberry
from sqlmodel import col
from strawberry.types import Info

from app.services.members.rows import UserRow
from app.services.owners import queries as owner_queries
from app.services.owners.queries import OwnerOrderField, owner_order
from app.services.owners.rows import OwnerRow
from app.services.owners.rules import USER, OwnerKind
from models.enums import OwnerRole
from resolvers.common.children import NESTED_DEFAULT, Identified, related
from resolvers.common.described import described_enum
from resolvers.common.enums import OrderDirection
from resolvers.common.filters import (
    AND,
    EVERY,
    LIST_FILTER,
    NONE,
    NOT,
    OR,
    SOME,
    combinators,
    register_input,
)
from resolvers.common.inputs import filter_id
from resolvers.common.relations import ToMany, ToOne, child_order, relation_field
from resolvers.context import Context
from resolvers.me.types import User

OWNER_USER = ToOne(USER, "user_id")
described_enum(
    OwnerOrderField,
    "What a record's owners are sorted by.",
    {
        "ROLE": "Role, in the order OWNER, MEMBER, WATCHER.",
        "CREATED_AT": "When the user became an owner.",
        "USER_NAME": "The user's name, ignoring case (their e-mail without one).",
    },
)
CREATE_OWNERS = (
    "The owners of the new record, exactly these ([] for none). Not sent or null: its "
    "creator becomes OWNER (unless the server runs with CREATOR_IS_OWNER=false)."
)


@strawberry.input(description="A user and their role on a new record.")
class OwnerInput:
    user_id: strawberry.ID = strawberry.field(
        description="A user of the tenant (`users`); unknown: NOT_FOUND. Each user once."
    )
    role: OwnerRole = strawberry.field(default=OwnerRole.OWNER, description="OWNER when not sent.")


@strawberry.input(description="Owners of a company, contact or deal.")
class OwnerFilter:
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="This user (a user id)."
    )
    role: list[OwnerRole] | None = strawberry.field(
        default=None, description="In any of these roles ([]: none matches)."
    )
    and_: list[OwnerFilter] | None = strawberry.field(default=None, name="and", description=AND)
    or_: list[OwnerFilter] | None = strawberry.field(default=None, name="or", description=OR)
    not_: OwnerFilter | None = strawberry.field(default=None, name="not", description=NOT)


@strawberry.input(description=f"{LIST_FILTER} (the owners of a company, contact or deal)")
class OwnerListFilter:
    some: OwnerFilter | None = strawberry.field(default=None, description=SOME)
    none: OwnerFilter | None = strawberry.field(default=None, description=NONE)
    every: OwnerFilter | None = strawberry.field(default=None, description=EVERY)


def _owner_filter(value: OwnerFilter) -> owner_queries.OwnerFilter:
    return owner_queries.OwnerFilter(
        user_id=filter_id(value.user_id, "userId"),
        roles=tuple(value.role or ()),
        **combinators(value),
    )


register_input(OwnerFilter, _owner_filter)


async def _user(root: strawberry.Parent[OwnerRow], info: Info[Context, None]) -> UserRow | None:
    return await related(info, OWNER_USER, root)


@strawberry.type(
    description="A user responsible for (OWNER), working on (MEMBER) or following "
    "(WATCHER) a record."
)
class Owner:
    user_id: strawberry.ID = strawberry.field(description="The owning user's id.")
    user: User = relation_field(OWNER_USER, _user, "The owning user.")
    role: OwnerRole = strawberry.field(description="Their part in the record.")
    created_at: datetime = strawberry.field(description="When the user became an owner.")


@functools.cache
def owners_relation(kind: OwnerKind) -> ToMany[OwnerRow]:
    """CompanyOwnersByCompanyLoader and friends: OWNER first, then by when they were added."""
    model = kind.entity.model
    ordering = (col(model.role), col(model.created_at), col(model.id))
    return ToMany(kind.entity, kind.parent_column, ordering, ordering=owner_order(kind))


@strawberry.input(description="How a record's owners are sorted.")
class OwnerOrder:
    field: OwnerOrderField = strawberry.field(
        default=OwnerOrderField.ROLE, description="What to sort by; ROLE when not sent."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="ASC when not sent."
    )


OwnerOrderBy = Annotated[
    OwnerOrder | None,
    strawberry.argument(description="Sort order; null: OWNER first, then by when added."),
]


async def owners_of(
    info: Info[Context, None],
    kind: OwnerKind,
    root: Identified,
    first: int = NESTED_DEFAULT,
    order_by: OwnerOrder | None = None,
) -> list[OwnerRow]:
    return await related(info, owners_relation(kind), root, first, child_order(order_by))
