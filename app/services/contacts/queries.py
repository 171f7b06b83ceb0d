"""Reading contacts: one by id, filtered keyset pages and counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import col

from app.data import records
from app.data.pagination import PageQuery, PageRequest
from app.data.sort_keys import (
    SortKey,
    date_key,
    enum_key,
    lowered_key,
    related,
    text_key,
    timestamp_key,
)
from app.data.tenancy import TenantScope
from app.services.common.leakproof import ranked
from app.services.common.relation_filters import (
    Link,
    Quantified,
    Walk,
    conditions,
    owned_by_me,
    quantified,
    register,
    scalar,
    to_one,
)
from app.services.common.tags import tagged
from app.services.common.validation import check_filter
from app.services.contacts.rows import ContactRow
from app.services.contacts.rules import CONTACT
from app.services.rollups.queries import (
    CONTACT_ROLLUPS,
    last_activity_key,
    next_activity_due_key,
    open_deal_count_key,
    sort_key_of,
)
from app.services.search.queries import search_condition
from app.services.search.rules import SearchKind
from models import (
    Activity,
    Company,
    Contact,
    ContactOwner,
    ContactSource,
    ContactTag,
    Deal,
    EntityStatus,
)

if TYPE_CHECKING:
    from app.services.activities.queries import ActivityFilter
    from app.services.companies.queries import CompanyFilter
    from app.services.deals.queries import DealFilter
    from app.services.owners.queries import OwnerFilter

MAX_SEARCH_LENGTH = 200


class ContactOrderField(Enum):
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    FIRST_NAME = "FIRST_NAME"
    LAST_NAME = "LAST_NAME"
    STATUS = "STATUS"
    POSITION = "POSITION"
    DEPARTMENT = "DEPARTMENT"
    BIRTHDAY = "BIRTHDAY"
    COMPANY_NAME = "COMPANY_NAME"
    # Roll-ups (app/services/rollups)
    LAST_ACTIVITY_AT = "LAST_ACTIVITY_AT"
    NEXT_ACTIVITY_DUE_AT = "NEXT_ACTIVITY_DUE_AT"
    OPEN_DEAL_COUNT = "OPEN_DEAL_COUNT"
    OPEN_DEAL_VALUE = "OPEN_DEAL_VALUE"


_SORT_KEYS = {
    ContactOrderField.NAME: text_key("name", col(Contact.name_key)),
    ContactOrderField.CREATED_AT: timestamp_key("createdAt", col(Contact.created_at)),
    ContactOrderField.UPDATED_AT: timestamp_key("updatedAt", col(Contact.updated_at)),
    ContactOrderField.FIRST_NAME: text_key("firstName", col(Contact.first_name_key), nullable=True),
    ContactOrderField.LAST_NAME: text_key("lastName", col(Contact.last_name_key)),
    ContactOrderField.STATUS: enum_key("status", col(Contact.status_rank), EntityStatus),
    ContactOrderField.POSITION: text_key("position", col(Contact.position_key), nullable=True),
    ContactOrderField.DEPARTMENT: text_key(
        "department", col(Contact.department_key), nullable=True
    ),
    ContactOrderField.BIRTHDAY: date_key("birthday", col(Contact.birthday), nullable=True),
    # Contacts without a company last.
    ContactOrderField.COMPANY_NAME: lowered_key(
        "companyName",
        related(col(Company.name), col(Company.id), col(Contact.company_id)),
        nullable=True,
    ),
    ContactOrderField.LAST_ACTIVITY_AT: last_activity_key(CONTACT_ROLLUPS),
    ContactOrderField.NEXT_ACTIVITY_DUE_AT: next_activity_due_key(CONTACT_ROLLUPS),
    ContactOrderField.OPEN_DEAL_COUNT: open_deal_count_key(CONTACT_ROLLUPS),
}


def contact_sort_key(order: ContactOrderField, currency: str | None = None) -> SortKey:
    """The contacts list's sort key of `order` (a nested list pages by it too)."""
    return sort_key_of(_SORT_KEYS, order, CONTACT_ROLLUPS, currency)


@dataclass(frozen=True)
class ContactFilter:
    search: str | None = None
    company_id: uuid.UUID | None = None
    statuses: tuple[EntityStatus, ...] = ()
    sources: tuple[ContactSource, ...] = ()
    tag: str | None = None
    department: str | None = None
    owner_id: uuid.UUID | None = None
    # relation filters (app.services.common.relation_filters)
    owned_by_me: bool | None = None
    owners: Quantified[OwnerFilter] | None = None
    company: CompanyFilter | None = None
    deals: Quantified[DealFilter] | None = None
    activities: Quantified[ActivityFilter] | None = None
    and_: tuple[ContactFilter, ...] = ()
    or_: tuple[ContactFilter, ...] | None = None
    not_: ContactFilter | None = None


@dataclass(frozen=True)
class ContactQuery:
    page: PageRequest
    filter: ContactFilter = field(default_factory=ContactFilter)
    order: ContactOrderField = ContactOrderField.NAME
    caller: uuid.UUID | None = None  # the user of `ownedByMe`
    currency: str | None = None  # OPEN_DEAL_VALUE's currency (rollups.check_currency)


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
        conditions.append(ranked(col(Contact.status_rank), query_filter.statuses))
    if query_filter.sources:
        conditions.append(ranked(col(Contact.source_rank), query_filter.sources))
    if query_filter.tag:
        conditions.append(tagged(col(Contact.id), col(ContactTag.contact_id), query_filter.tag))
    if query_filter.owner_id is not None:
        owned = sa.select(col(ContactOwner.id)).where(
            col(ContactOwner.contact_id) == col(Contact.id),
            col(ContactOwner.user_id) == query_filter.owner_id,
        )
        conditions.append(owned.exists())
    if query_filter.department:
        # `department_key` is lower(department), stored: the same comparison, leakproof.
        conditions.append(col(Contact.department_key) == query_filter.department.lower())
    return conditions


_CONTACT_ID = col(Contact.id)
_OWNERS = Link("owners", Contact, col(ContactOwner.contact_id), _CONTACT_ID)
_COMPANY = Link("company", Contact, col(Company.id), col(Contact.company_id))
_DEALS = Link("deals", Contact, col(Deal.contact_id), _CONTACT_ID)
_ACTIVITIES = Link("activities", Contact, col(Activity.contact_id), _CONTACT_ID)


def _relations(f: ContactFilter, walk: Walk) -> list[Any]:
    return [
        *owned_by_me(_OWNERS, col(ContactOwner.user_id), f.owned_by_me, walk),
        *quantified(_OWNERS, f.owners, walk),
        *to_one(_COMPANY, f.company, walk),
        *quantified(_DEALS, f.deals, walk),
        *quantified(_ACTIVITIES, f.activities, walk),
    ]


register(ContactFilter, scalar(_where), _relations)


def _filtered(query_filter: ContactFilter, caller: uuid.UUID | None) -> list[Any]:
    return conditions(query_filter, Walk(caller))


def contacts_page(query: ContactQuery) -> PageQuery[ContactRow]:
    where = _filtered(query.filter, query.caller)
    return PageQuery(
        CONTACT,
        where,
        sort_key_of(_SORT_KEYS, query.order, CONTACT_ROLLUPS, query.currency),
        query.page,
    )


async def count_contacts(scope: TenantScope, query_filter: ContactFilter) -> int:
    return await records.count_rows(scope, Contact, _filtered(query_filter, scope.actor_id))


async def get_contact(scope: TenantScope, contact_id: uuid.UUID) -> ContactRow:
    return await records.get_row(scope, CONTACT, contact_id)
