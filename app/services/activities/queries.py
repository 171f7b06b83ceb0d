"""Reading activities: one by id, filtered keyset pages (a company's feed may include its
contacts' activities) and counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.data import records
from app.data.pagination import PageQuery, PageRequest, range_conditions, timestamp_key
from app.data.tenancy import TenantScope
from app.services.activities.rows import ActivityRow
from app.services.activities.rules import ACTIVITY
from app.services.common.validation import check_filter
from app.services.search.queries import search_condition
from app.services.search.rules import SearchKind
from models import Activity, ActivityType, Contact

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


class ActivityOrderField(Enum):
    CREATED_AT = "CREATED_AT"
    DUE_AT = "DUE_AT"


_SORT_KEYS = {
    ActivityOrderField.CREATED_AT: timestamp_key("createdAt", col(Activity.created_at)),
    ActivityOrderField.DUE_AT: timestamp_key(
        "dueAt", sa.func.coalesce(col(Activity.due_at), FAR_FUTURE)
    ),
}


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
    search: str | None = None


@dataclass(frozen=True)
class ActivityQuery:
    page: PageRequest
    filter: ActivityFilter = field(default_factory=ActivityFilter)
    order: ActivityOrderField = ActivityOrderField.CREATED_AT


def _company_condition(f: ActivityFilter) -> Any:
    of_company = col(Activity.company_id) == f.company_id
    if not f.include_contacts:
        return of_company
    contacts = sa.select(col(Contact.id)).where(col(Contact.company_id) == f.company_id)
    return sa.or_(of_company, col(Activity.contact_id).in_(contacts))


def _where(f: ActivityFilter) -> list[Any]:
    check_filter(f)
    conditions: list[Any] = []
    if f.types:
        conditions.append(col(Activity.type).in_(f.types))
    if f.company_id is not None:
        conditions.append(_company_condition(f))
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


def activities_page(query: ActivityQuery) -> PageQuery[ActivityRow]:
    return PageQuery(ACTIVITY, _where(query.filter), _SORT_KEYS[query.order], query.page)


async def count_activities(scope: TenantScope, query_filter: ActivityFilter) -> int:
    return await records.count_rows(scope, Activity, _where(query_filter))


async def get_activity(scope: TenantScope, activity_id: uuid.UUID) -> ActivityRow:
    return await records.get_row(scope, ACTIVITY, activity_id)
