"""Reading activities: one by id, filtered keyset pages (a company's feed may include its
contacts' activities) and counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import col

from app.data import records
from app.data.pagination import PageQuery, PageRequest, range_conditions
from app.data.sort_keys import SortKey, enum_key, text_key, timestamp_key
from app.data.tenancy import TenantScope
from app.services.activities.feed import company_feed
from app.services.activities.rows import ActivityRow
from app.services.activities.rules import ACTIVITY
from app.services.common.leakproof import ranked
from app.services.common.relation_filters import (
    Link,
    Walk,
    conditions,
    register,
    scalar,
    to_one,
)
from app.services.common.validation import check_filter
from app.services.search.queries import search_condition
from app.services.search.rules import SearchKind
from models import Activity, ActivityType, Company, Contact, Deal

if TYPE_CHECKING:
    from app.services.companies.queries import CompanyFilter
    from app.services.contacts.queries import ContactFilter
    from app.services.deals.queries import DealFilter


class ActivityOrderField(Enum):
    CREATED_AT = "CREATED_AT"
    DUE_AT = "DUE_AT"
    UPDATED_AT = "UPDATED_AT"
    COMPLETED_AT = "COMPLETED_AT"
    SUBJECT = "SUBJECT"
    TYPE = "TYPE"


_SORT_KEYS = {
    ActivityOrderField.CREATED_AT: timestamp_key("createdAt", col(Activity.created_at)),
    # Activities without a due date last, in both directions.
    ActivityOrderField.DUE_AT: timestamp_key("dueAt", col(Activity.due_at), nullable=True),
    ActivityOrderField.UPDATED_AT: timestamp_key("updatedAt", col(Activity.updated_at)),
    ActivityOrderField.COMPLETED_AT: timestamp_key(
        "completedAt", col(Activity.completed_at), nullable=True
    ),
    ActivityOrderField.SUBJECT: text_key("subject", col(Activity.subject_key)),
    ActivityOrderField.TYPE: enum_key("type", col(Activity.type_rank), ActivityType),
}


def activity_sort_key(order: ActivityOrderField) -> SortKey:
    """The activities list's sort key of `order` (a nested list pages by it too)."""
    return _SORT_KEYS[order]


@dataclass(frozen=True)
class ActivityFilter:
    types: tuple[ActivityType, ...] = ()
    contact_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    include_contacts: bool = False
    deal_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    due_from: datetime | None = None
    due_to: datetime | None = None
    overdue: bool | None = None
    completed: bool | None = None
    # relation filters (app.services.common.relation_filters)
    assigned_to_me: bool | None = None
    deal: DealFilter | None = None
    company: CompanyFilter | None = None
    contact: ContactFilter | None = None
    and_: tuple[ActivityFilter, ...] = ()
    or_: tuple[ActivityFilter, ...] | None = None
    not_: ActivityFilter | None = None
    search: str | None = None


@dataclass(frozen=True)
class ActivityQuery:
    page: PageRequest
    filter: ActivityFilter = field(default_factory=ActivityFilter)
    order: ActivityOrderField = ActivityOrderField.CREATED_AT
    caller: uuid.UUID | None = None  # the user of `assignedToMe`


def _where(f: ActivityFilter) -> list[Any]:
    check_filter(f)
    conditions: list[Any] = []
    if f.types:
        conditions.append(ranked(col(Activity.type_rank), f.types))
    if f.company_id is not None:
        conditions.append(company_feed(f.company_id, f.include_contacts))
    ids: tuple[tuple[Any, Any], ...] = (
        (col(Activity.contact_id), f.contact_id),
        (col(Activity.deal_id), f.deal_id),
        (col(Activity.assignee_id), f.assignee_id),
    )
    conditions += [column == value for column, value in ids if value is not None]
    conditions += search_condition(SearchKind.ACTIVITY, col(Activity.id), f.search)
    conditions += range_conditions(((col(Activity.due_at), f.due_from, f.due_to),))
    open_ = col(Activity.completed_at).is_(None)
    if f.completed is not None:
        conditions.append(sa.not_(open_) if f.completed else open_)
    if f.overdue is not None:
        due = col(Activity.due_at)
        late = sa.and_(open_, due.is_not(None), due < sa.func.now())
        conditions.append(late if f.overdue else sa.not_(late))
    return conditions


_DEAL = Link("deal", Activity, col(Deal.id), col(Activity.deal_id))
_COMPANY = Link("company", Activity, col(Company.id), col(Activity.company_id))
_CONTACT = Link("contact", Activity, col(Contact.id), col(Activity.contact_id))


def _assigned_to_me(wanted: bool | None, walk: Walk) -> list[Any]:
    if wanted is None:
        return []
    assignee, me = col(Activity.assignee_id), walk.me("assignedToMe")
    return [assignee == me if wanted else sa.or_(assignee.is_(None), assignee != me)]


def _relations(f: ActivityFilter, walk: Walk) -> list[Any]:
    return [
        *_assigned_to_me(f.assigned_to_me, walk),
        *to_one(_DEAL, f.deal, walk),
        *to_one(_COMPANY, f.company, walk),
        *to_one(_CONTACT, f.contact, walk),
    ]


register(ActivityFilter, scalar(_where), _relations)


def _filtered(query_filter: ActivityFilter, caller: uuid.UUID | None) -> list[Any]:
    return conditions(query_filter, Walk(caller))


def activities_page(query: ActivityQuery) -> PageQuery[ActivityRow]:
    where = _filtered(query.filter, query.caller)
    return PageQuery(ACTIVITY, where, _SORT_KEYS[query.order], query.page)


async def count_activities(scope: TenantScope, query_filter: ActivityFilter) -> int:
    return await records.count_rows(scope, Activity, _filtered(query_filter, scope.actor_id))


async def get_activity(scope: TenantScope, activity_id: uuid.UUID) -> ActivityRow:
    return await records.get_row(scope, ACTIVITY, activity_id)
