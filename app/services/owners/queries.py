"""Reading the tenant's users (for an owner picker); the orders of a record's owners."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.data import records
from app.data.sort_keys import SortKey, lowered_key, related, timestamp_key
from app.data.tenancy import TenantScope
from app.errors import BadUserInput
from app.services.common.relation_filters import Walk, register
from app.services.members.rows import UserRow
from app.services.owners.rules import USER, OwnerKind
from app.services.search.queries import direct_condition
from models import OwnerRole, User

MAX_USERS = 200


class OwnerOrderField(Enum):
    ROLE = "ROLE"
    CREATED_AT = "CREATED_AT"
    USER_NAME = "USER_NAME"


def owner_order(kind: OwnerKind) -> Callable[[OwnerOrderField, bool], Sequence[Any]]:
    """ORDER BY of a record's owners (of this kind) in an order: by role (OWNER, MEMBER,
    WATCHER), since when, or by the user's name (their e-mail without one)."""
    model = kind.entity.model
    keys = {
        # Only ordered, never paged: the enum in its declared order.
        OwnerOrderField.ROLE: SortKey("role", col(model.role)),
        OwnerOrderField.CREATED_AT: timestamp_key("createdAt", col(model.created_at)),
        OwnerOrderField.USER_NAME: lowered_key(
            "userName",
            related(
                sa.func.coalesce(col(User.name), col(User.email)), col(User.id), col(model.user_id)
            ),
        ),
    }

    def ordering(order: OwnerOrderField, descending: bool) -> Sequence[Any]:
        return keys[order].order_by(kind.entity.id, descending)

    return ordering


async def list_users(scope: TenantScope, search: str | None, first: int) -> list[UserRow]:
    """The tenant's users for an owner picker, by name then e-mail."""
    if not 0 < first <= MAX_USERS:
        raise BadUserInput.single("first", f"must be between 1 and {MAX_USERS}")
    matched = direct_condition([col(User.name), col(User.email)], search, "search")
    statement = (
        sa.select(*USER.columns)
        .where(*matched)
        .order_by(sa.func.lower(sa.func.coalesce(col(User.name), col(User.email))), USER.id)
        .limit(first)
    )
    return await records.select_rows(scope, USER, statement)


@dataclass(frozen=True)
class OwnerFilter:
    """The owners of a company, contact or deal (`Walk.table`: which owner table)."""

    user_id: uuid.UUID | None = None
    roles: tuple[OwnerRole, ...] = ()
    and_: tuple[OwnerFilter, ...] = ()
    or_: tuple[OwnerFilter, ...] | None = None
    not_: OwnerFilter | None = None


def _owner_conditions(f: OwnerFilter, walk: Walk) -> list[Any]:
    owners = walk.table
    conditions: list[Any] = []
    if f.user_id is not None:
        conditions.append(col(owners.user_id) == f.user_id)
    if f.roles:
        conditions.append(col(owners.role).in_(f.roles))
    return conditions


register(OwnerFilter, _owner_conditions, lambda _f, _walk: [])
