"""Contacts: validation, listing with filters and keyset pages, create/update/delete with
their e-mail and phone lists in the same unit of work."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import AfterValidator
from sqlalchemy.engine import Row
from sqlmodel import col

from app.data import records
from app.data.changes import Tracked
from app.data.pagination import (
    PageQuery,
    PageRequest,
    SortKey,
    like_pattern,
    timestamp_key,
)
from app.data.records import Dependent, Entity
from app.data.tenancy import TenantScope
from app.errors import BadUserInput, Conflict, NotFound
from app.services.common.tags import has_tag
from app.services.common.validation import (
    Input,
    LongText,
    Name100,
    Tags,
    Text50,
    Text100,
    check_filter,
    patch_model,
    validate,
    validate_patch,
)
from app.services.contact_info.rules import EMAILS, PHONES, ValueLists, split_values
from app.services.contact_info.service import create_with_values, list_steps
from app.services.lexware.rules import LEXWARE_BOOKKEEPING
from app.services.owners.service import CONTACT_OWNERS, new_record_owners, split_owners
from models import (
    Activity,
    Contact,
    ContactEmail,
    ContactOwner,
    ContactPhone,
    ContactSource,
    Deal,
    EntityStatus,
)

MAX_SEARCH_LENGTH = 200
CONTACT = Entity(
    Contact,
    "Contact",
    {
        "fk_contact_company_id_company": lambda: NotFound("Company"),
        "uq_contact_tenant_id_lexware_contact_id": lambda: Conflict(
            "This Lexware contact is already linked to another contact."
        ),
        **CONTACT_OWNERS.entity.constraint_errors,  # owners named when it is created
    },
    Tracked("contact", hidden=LEXWARE_BOOKKEEPING),
    (
        Dependent(Deal, "contact_id", Tracked("deal")),
        Dependent(Activity, "contact_id", Tracked("activity"), kept_by=("company_id", "deal_id")),
    ),
)
_LINKEDIN = re.compile(r"^https://([a-z]{2,3}\.)?linkedin\.com/in/[A-Za-z0-9\-_%.]{2,100}/?$")


def _check_linkedin(value: str) -> str:
    candidate = value.strip()
    if candidate.startswith(("linkedin.com", "www.linkedin.com")):
        candidate = f"https://{candidate}"
    candidate = candidate.replace("http://", "https://", 1)
    if not _LINKEDIN.match(candidate):
        raise ValueError(
            "must be a LinkedIn profile URL such as https://www.linkedin.com/in/anna-schmidt"
        )
    return candidate


def _check_birthday(value: date) -> date:
    if value > date.today():
        raise ValueError("cannot be in the future")
    if value.year < 1900:
        raise ValueError("must be after 1900")
    return value


LinkedInUrl = Annotated[str, AfterValidator(_check_linkedin)]
Birthday = Annotated[date, AfterValidator(_check_birthday)]


class ContactInput(Input):
    salutation: Text50 = None
    title: Text50 = None
    first_name: Text100 = None
    last_name: Name100
    position: Text100 = None
    department: Text100 = None
    company_id: uuid.UUID | None = None
    status: EntityStatus = EntityStatus.ACTIVE
    linkedin_url: LinkedInUrl | None = None
    birthday: Birthday | None = None
    source: ContactSource | None = None
    tags: Tags = []
    notes: LongText = None


ContactPatch, NOT_NULLABLE = patch_model(ContactInput)


class ContactOrderField(Enum):
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"


_FULL_NAME = sa.func.lower(
    col(Contact.last_name) + " " + sa.func.coalesce(col(Contact.first_name), "")
)
_SORT_KEYS = {
    ContactOrderField.NAME: SortKey("name", _FULL_NAME),
    ContactOrderField.CREATED_AT: timestamp_key("createdAt", col(Contact.created_at)),
    ContactOrderField.UPDATED_AT: timestamp_key("updatedAt", col(Contact.updated_at)),
}


@dataclass(frozen=True)
class ContactFilter:
    search: str | None = None
    company_id: uuid.UUID | None = None
    statuses: tuple[EntityStatus, ...] = ()
    sources: tuple[ContactSource, ...] = ()
    tag: str | None = None
    department: str | None = None
    owner_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ContactQuery:
    page: PageRequest
    filter: ContactFilter = field(default_factory=ContactFilter)
    order: ContactOrderField = ContactOrderField.NAME


def _search(text: str) -> sa.ColumnElement[bool]:
    if len(text) > MAX_SEARCH_LENGTH:
        raise BadUserInput.single(
            "filter.search", f"must be at most {MAX_SEARCH_LENGTH} characters"
        )
    pattern = like_pattern(text.strip())
    email = sa.select(col(ContactEmail.id)).where(
        col(ContactEmail.contact_id) == col(Contact.id), col(ContactEmail.email).ilike(pattern)
    )
    phone = sa.select(col(ContactPhone.id)).where(
        col(ContactPhone.contact_id) == col(Contact.id), col(ContactPhone.phone).ilike(pattern)
    )
    full_name = sa.func.coalesce(col(Contact.first_name), "") + " " + col(Contact.last_name)
    return sa.or_(full_name.ilike(pattern), email.exists(), phone.exists())


def _where(query_filter: ContactFilter) -> list[sa.ColumnElement[bool]]:
    check_filter(query_filter)
    conditions: list[sa.ColumnElement[bool]] = []
    if query_filter.search:
        conditions.append(_search(query_filter.search))
    if query_filter.company_id is not None:
        conditions.append(col(Contact.company_id) == query_filter.company_id)
    if query_filter.statuses:
        conditions.append(col(Contact.status).in_(query_filter.statuses))
    if query_filter.sources:
        conditions.append(col(Contact.source).in_(query_filter.sources))
    if query_filter.tag:
        conditions.append(has_tag(col(Contact.tag_keys), query_filter.tag))
    if query_filter.owner_id is not None:
        owned = sa.select(col(ContactOwner.id)).where(
            col(ContactOwner.contact_id) == col(Contact.id),
            col(ContactOwner.user_id) == query_filter.owner_id,
        )
        conditions.append(owned.exists())
    if query_filter.department:
        conditions.append(sa.func.lower(col(Contact.department)) == query_filter.department.lower())
    return conditions


def contacts_page(query: ContactQuery) -> PageQuery:
    return PageQuery(CONTACT, _where(query.filter), _SORT_KEYS[query.order], query.page)


async def count_contacts(scope: TenantScope, query_filter: ContactFilter) -> int:
    return await records.count_rows(scope, Contact, _where(query_filter))


async def get_contact(scope: TenantScope, contact_id: uuid.UUID) -> Row[Any]:
    return await records.get_row(scope, CONTACT, contact_id)


async def create_contact(
    scope: TenantScope, data: Mapping[str, Any], system: records.SystemChange | None = None
) -> Row[Any]:
    """`system`: values the system adds (a Lexware link), with their events. Its owners:
    those named in `owners`, else its creator (owners.initial_owners)."""
    given, named = split_owners(data)
    own, lists = split_values(given)
    values = validate(ContactInput, own).model_dump()
    values.update(system.values if system else {})
    statement = records.insert_statement(scope, CONTACT, values)
    owners = new_record_owners(scope, CONTACT_OWNERS, named)
    return await create_with_values(
        scope, CONTACT, statement, "contact_id", lists, system, then=owners
    )


async def update_contact(
    scope: TenantScope,
    contact_id: uuid.UUID,
    data: Mapping[str, Any],
    expected_version: int | None = None,
    system: records.SystemChange | None = None,
) -> Row[Any]:
    """Change the fields sent; `emails`/`phones`, when sent, replace the whole lists."""
    own, lists = split_values(data)
    values = validate_patch(ContactPatch, NOT_NULLABLE, own)
    return await records.update_row(
        scope,
        CONTACT,
        contact_id,
        {**values, **(system.values if system else {})},
        expected_version,
        steps=_steps(scope, lists, system),
    )


def _steps(
    scope: TenantScope, lists: ValueLists, system: records.SystemChange | None
) -> records.UpdateSteps | None:
    steps = list_steps(scope, "contact_id", lists)
    return system.steps(CONTACT, steps) if system is not None else steps


async def delete_contact(scope: TenantScope, contact_id: uuid.UUID) -> uuid.UUID:
    return await records.delete_row(scope, CONTACT, contact_id)


__all__ = ["CONTACT", "EMAILS", "PHONES"]
