"""Reading contacts: one by id, filtered keyset pages and counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import Enum

import sqlalchemy as sa
from sqlmodel import col

from app.data import records
from app.data.pagination import PageQuery, PageRequest, SortKey, timestamp_key
from app.data.tenancy import TenantScope
from app.services.common.tags import has_tag
from app.services.common.validation import check_filter
from app.services.contacts.rows import ContactRow
from app.services.contacts.rules import CONTACT
from app.services.search.queries import search_condition
from app.services.search.rules import SearchKind
from models import Contact, ContactOwner, ContactSource, EntityStatus


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


def _search(text: str | None) -> list[sa.ColumnElement[bool]]:
    """The contacts `search` finds for the text (app/services/search)."""
    return search_condition(SearchKind.CONTACT, col(Contact.id), text)


def _where(query_filter: ContactFilter) -> list[sa.ColumnElement[bool]]:
    check_filter(query_filter)
    conditions: list[sa.ColumnElement[bool]] = []
    conditions += _search(query_filter.search)
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


def contacts_page(query: ContactQuery) -> PageQuery[ContactRow]:
    return PageQuery(CONTACT, _where(query.filter), _SORT_KEYS[query.order], query.page)


async def count_contacts(scope: TenantScope, query_filter: ContactFilter) -> int:
    return await records.count_rows(scope, Contact, _where(query_filter))


async def get_contact(scope: TenantScope, contact_id: uuid.UUID) -> ContactRow:
    return await records.get_row(scope, CONTACT, contact_id)
