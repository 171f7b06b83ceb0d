"""What an owner is (declarations and pure rules, no I/O): the owner tables of companies,
contacts and deals (m:n with a role) as the services treat them, a valid owner list, and who
owns a new record: those its create input names, else its creator (CREATOR_IS_OWNER)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from app.data.changes import Tracked, camel_keys, jsonable
from app.data.records import Entity
from app.data.tenancy import TenantScope
from app.errors import NotFound
from app.services.common.validation import Input, validate
from app.services.members.rows import UserRow
from app.services.owners.rows import CompanyOwnerRow, ContactOwnerRow, DealOwnerRow, OwnerRow
from models import CompanyOwner, ContactOwner, DealOwner, OwnerRole, User

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
    entity: Entity[OwnerRow]  # its rows are a CompanyOwnerRow, ContactOwnerRow, DealOwnerRow
    parent_column: str


def _owner_kind(
    model: Any, table: str, parent: str, parent_label: str, row: Callable[..., OwnerRow]
) -> OwnerKind:
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
    return OwnerKind(Entity(model, "Owner", errors, events, row=row), f"{parent}_id")


COMPANY_OWNERS = _owner_kind(CompanyOwner, "company_owner", "company", "Company", CompanyOwnerRow)


CONTACT_OWNERS = _owner_kind(ContactOwner, "contact_owner", "contact", "Contact", ContactOwnerRow)


DEAL_OWNERS = _owner_kind(DealOwner, "deal_owner", "deal", "Deal", DealOwnerRow)


USER = Entity(User, "User", row=UserRow)
