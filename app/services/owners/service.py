"""Owners of companies, contacts and deals (m:n with a role), and the tenant's user list.

Adding an existing owner changes their role (upsert). The user must belong to the caller's
tenant: the composite foreign keys make any other user id NOT_FOUND. A new record's first
owners are those its create input names, else its creator (CREATOR_IS_OWNER), written in
its own unit of work and listed in its created event.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import AfterValidator, Field
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.data import records
from app.data.changes import Tracked, camel_keys, jsonable
from app.data.pagination import like_pattern
from app.data.records import Entity
from app.data.tenancy import TenantScope, execute_rows
from app.errors import BadUserInput, NotFound
from app.services.common.validation import Input, validate
from models import CompanyOwner, ContactOwner, DealOwner, OwnerRole, User

MAX_USERS = 200
MAX_OWNERS = 20  # named in one create


class OwnerInput(Input):
    user_id: uuid.UUID
    role: OwnerRole = OwnerRole.OWNER


def _distinct_owners(owners: list[OwnerInput]) -> list[OwnerInput]:
    users = [owner.user_id for owner in owners]
    if len(users) != len(set(users)):
        raise ValueError("lists a user twice")
    return owners


OwnerList = Annotated[
    list[OwnerInput], Field(max_length=MAX_OWNERS), AfterValidator(_distinct_owners)
]
# The owners a create input names: None (not sent) means "the creator" (initial_owners).
NamedOwners = OwnerList | None


class _Named(Input):
    owners: NamedOwners = None


def split_owners(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[OwnerInput] | None]:
    """A create input without its `owners`, and the owners it names (validated; None: none
    named)."""
    rest = dict(data)
    named = validate(_Named, {"owners": rest.pop("owners", None)})
    return rest, named.owners


def initial_owners(scope: TenantScope, named: list[OwnerInput] | None) -> list[OwnerInput]:
    """Who owns a new record: exactly the owners the input names (an empty list: nobody);
    none named, its creator as OWNER when the scope says so (CREATOR_IS_OWNER; a job
    creates for nobody)."""
    if named is not None:
        return named
    if scope.creator_owns and scope.actor_id is not None:
        return [OwnerInput(user_id=scope.actor_id)]
    return []


def listed_owners(owners: list[OwnerInput]) -> dict[str, Any]:
    """The owners as the created event lists them (`owners: [null, [{userId, role}]]`)."""
    rows = [owner.model_dump() for owner in owners]
    return {"owners": [None, camel_keys(jsonable(rows))]} if rows else {}


@dataclass(frozen=True)
class OwnerKind:
    entity: Entity
    parent_column: str


def _owner_kind(model: Any, table: str, parent: str, parent_label: str) -> OwnerKind:
    errors = {
        f"fk_{table}_{parent}_id_{parent}": lambda: NotFound(parent_label),
        f"fk_{table}_user_id_user": lambda: NotFound("User"),
    }
    events = Tracked(
        parent,
        subject=f"{parent}_id",
        created="owner_added",
        updated="owner_updated",
        deleted="owner_removed",
    )
    return OwnerKind(Entity(model, "Owner", errors, events), f"{parent}_id")


COMPANY_OWNERS = _owner_kind(CompanyOwner, "company_owner", "company", "Company")
CONTACT_OWNERS = _owner_kind(ContactOwner, "contact_owner", "contact", "Contact")
DEAL_OWNERS = _owner_kind(DealOwner, "deal_owner", "deal", "Deal")
USER = Entity(User, "User")


async def insert_owners(
    session: AsyncSession,
    scope: TenantScope,
    kind: OwnerKind,
    parent_id: uuid.UUID,
    owners: list[OwnerInput],
) -> dict[str, Any]:
    """A new record's owners, in its unit of work (a user of another tenant or none: the
    foreign key, NOT_FOUND User); returns what its created event lists."""
    if owners:
        rows = [
            scope.owned(**{kind.parent_column: parent_id}, user_id=o.user_id, role=o.role)
            for o in owners
        ]
        await execute_rows(session, sa.insert(kind.entity.model).values(rows))
    return listed_owners(owners)


def new_record_owners(
    scope: TenantScope, kind: OwnerKind, named: list[OwnerInput] | None
) -> Callable[[AsyncSession, Row[Any]], Awaitable[dict[str, Any]]]:
    """The step of a create that adds the new record's initial owners."""
    owners = initial_owners(scope, named)

    async def add(session: AsyncSession, row: Row[Any]) -> dict[str, Any]:
        return await insert_owners(session, scope, kind, row.id, owners)

    return add


async def add_owner(
    scope: TenantScope,
    kind: OwnerKind,
    parent_id: uuid.UUID,
    user_id: uuid.UUID,
    role: OwnerRole = OwnerRole.OWNER,
) -> Row[Any]:
    """Make the user an owner with this role, or change their role if they are one."""
    entity = kind.entity
    match = (entity.column(kind.parent_column) == parent_id, entity.column("user_id") == user_id)
    statement = (
        pg_insert(entity.model)
        .values(scope.owned(**{kind.parent_column: parent_id, "user_id": user_id, "role": role}))
        .on_conflict_do_update(
            index_elements=["tenant_id", kind.parent_column, "user_id"],
            set_={"role": role, "updated_at": sa.func.now()},
        )
        .returning(*entity.columns)
    )
    with records.constraint_errors(entity.constraint_errors):
        async with scope.writing() as session:
            current = sa.select(*entity.columns).where(*match).with_for_update()
            before = (await execute_rows(session, current)).first()
            row = (await execute_rows(session, statement)).one()
            if before is None:
                records.record_created(session, entity, row)
            else:
                records.record_updated(session, entity, before, row)
    return row


async def remove_owner(
    scope: TenantScope, kind: OwnerKind, parent_id: uuid.UUID, user_id: uuid.UUID
) -> uuid.UUID:
    entity = kind.entity
    statement = (
        sa.delete(entity.model)
        .where(entity.column(kind.parent_column) == parent_id, entity.column("user_id") == user_id)
        .returning(*entity.columns)
        .execution_options(synchronize_session=False)
    )
    row = await records.write_one(
        scope, entity, statement, lambda s, row: records.record_deleted(s, entity, row)
    )
    return uuid.UUID(str(row.id))


async def list_users(scope: TenantScope, search: str | None, first: int) -> list[Row[Any]]:
    """The tenant's users for an owner picker, by name then e-mail."""
    if not 0 < first <= MAX_USERS:
        raise BadUserInput.single("first", f"must be between 1 and {MAX_USERS}")
    statement = sa.select(*USER.columns)
    if search:
        if len(search) > 200:
            raise BadUserInput.single("search", "must be at most 200 characters")
        pattern = like_pattern(search.strip())
        statement = statement.where(
            sa.or_(col(User.name).ilike(pattern), col(User.email).ilike(pattern))
        )
    statement = statement.order_by(
        sa.func.lower(sa.func.coalesce(col(User.name), col(User.email))), USER.id
    ).limit(first)
    async with scope.reading() as session:
        return list(await execute_rows(session, statement))
