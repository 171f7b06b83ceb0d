"""Activities: notes, calls, e-mails, meetings, tasks and follow-ups.

An activity belongs to a contact and/or a company (at least one, checked on every write: the
database cannot, since deleting the contact or company sets the link to NULL). Deleting a
company, contact or deal deletes its activities that nothing else links (records.Dependent's
`kept_by`): no feed would show them. The company feed can include the activities of the
company's contacts, in one ordered, paged list.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.data import records
from app.data.pagination import (
    PageQuery,
    PageRequest,
    range_conditions,
    timestamp_key,
)
from app.data.records import Entity
from app.data.tenancy import TenantScope
from app.errors import BadUserInput, FieldProblem, NotFound
from app.services.activities.rules import ACTIVITY_EVENTS
from app.services.common.validation import (
    Input,
    LongText,
    Moment,
    Name200,
    check_filter,
    patch_model,
    validate,
    validate_patch,
)
from models import Activity, ActivityType, Contact

ACTIVITY = Entity(
    Activity,
    "Activity",
    {
        "fk_activity_contact_id_contact": lambda: NotFound("Contact"),
        "fk_activity_company_id_company": lambda: NotFound("Company"),
        "fk_activity_deal_id_deal": lambda: NotFound("Deal"),
        "fk_activity_assignee_id_user": lambda: NotFound("User"),
    },
    ACTIVITY_EVENTS,
)
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


class ActivityInput(Input):
    type: ActivityType
    subject: Name200
    body: LongText = None
    due_at: Moment | None = None
    assignee_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None


ActivityPatch, NOT_NULLABLE = patch_model(ActivityInput)


def _check_linked(contact_id: Any, company_id: Any) -> None:
    if contact_id is None and company_id is None:
        message = "an activity belongs to a contact or a company (or both)"
        raise BadUserInput([FieldProblem("contactId", message), FieldProblem("companyId", message)])


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
    conditions += range_conditions(((col(Activity.due_at), f.due_from, f.due_to),))
    open_ = col(Activity.completed_at).is_(None)
    if f.completed is not None:
        conditions.append(sa.not_(open_) if f.completed else open_)
    if f.overdue is not None:
        due = col(Activity.due_at)
        late = sa.and_(open_, due.is_not(None), due < sa.func.now())
        conditions.append(late if f.overdue else sa.not_(late))
    return conditions


def activities_page(query: ActivityQuery) -> PageQuery:
    return PageQuery(ACTIVITY, _where(query.filter), _SORT_KEYS[query.order], query.page)


async def count_activities(scope: TenantScope, query_filter: ActivityFilter) -> int:
    return await records.count_rows(scope, Activity, _where(query_filter))


async def get_activity(scope: TenantScope, activity_id: uuid.UUID) -> Row[Any]:
    return await records.get_row(scope, ACTIVITY, activity_id)


async def create_activity(scope: TenantScope, data: Mapping[str, Any]) -> Row[Any]:
    values = validate(ActivityInput, data).model_dump()
    _check_linked(values["contact_id"], values["company_id"])
    return await records.insert_row(scope, ACTIVITY, values)


async def update_activity(
    scope: TenantScope,
    activity_id: uuid.UUID,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Row[Any]:
    values = validate_patch(ActivityPatch, NOT_NULLABLE, data)
    if not {"contact_id", "company_id"} & set(values):
        return await records.update_row(scope, ACTIVITY, activity_id, values, expected_version)

    async def check_links(_session: AsyncSession, current: Row[Any]) -> dict[str, Any]:
        # Checked against the row as it will be, inside the same unit of work.
        _check_linked(
            values.get("contact_id", current.contact_id),
            values.get("company_id", current.company_id),
        )
        return {}

    return await records.update_row(
        scope,
        ACTIVITY,
        activity_id,
        values,
        expected_version,
        steps=records.UpdateSteps(place=check_links),
    )


async def set_completed(scope: TenantScope, activity_id: uuid.UUID, completed: bool) -> Row[Any]:
    """Complete (keeping the first completion time) or reopen an activity."""
    completed_at: Any = (
        sa.func.coalesce(col(Activity.completed_at), sa.func.now()) if completed else None
    )
    return await records.update_row(scope, ACTIVITY, activity_id, {"completed_at": completed_at})


async def delete_activity(scope: TenantScope, activity_id: uuid.UUID) -> uuid.UUID:
    return await records.delete_row(scope, ACTIVITY, activity_id)
