"""Activity inputs, filter and order."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from app.services.activities.queries import ActivityOrderField
from models.enums import ActivityType
from resolvers.common.described import described_enum
from resolvers.common.enums import OrderDirection
from resolvers.common.filters import AND, EVERY, LIST_FILTER, NONE, NOT, OR, SOME, TO_ONE

if TYPE_CHECKING:
    from resolvers.companies.inputs import CompanyFilter
    from resolvers.contacts.inputs import ContactFilter
    from resolvers.deals.inputs import DealFilter

from resolvers.common.inputs import SEARCH_FILTER

described_enum(
    ActivityOrderField,
    "What activities are sorted by (records without the value last in both directions).",
    {
        "CREATED_AT": "When created (logged).",
        "DUE_AT": "Due date.",
        "UPDATED_AT": "When last changed.",
        "COMPLETED_AT": "When marked done.",
        "SUBJECT": "Subject.",
        "TYPE": "Kind, in the order NOTE, CALL, EMAIL, MEETING, TASK, FOLLOWUP.",
    },
)


_TYPE = "What kind of activity it is."
_SUBJECT = "A one-line summary; 1-200 characters (trimmed)."
_BODY = "The full text, at most 20,000 characters."
_DUE_AT = (
    "When it is due; with a time-zone offset, e.g. 2027-01-15T09:00:00+01:00 (without: "
    "BAD_USER_INPUT)."
)
_ASSIGNEE = "The user who is to do it (`users`); unknown: NOT_FOUND."
_CONTACT = "The contact it concerns; unknown or trashed: NOT_FOUND."
_COMPANY = "The company it concerns; unknown or trashed: NOT_FOUND."
_DEAL = "The deal it belongs to; unknown or trashed: NOT_FOUND."


@strawberry.input(
    description="A new activity: it needs a contact or a company (or both; neither is "
    "BAD_USER_INPUT), optionally a deal. Member or admin."
)
class CreateActivityInput:
    type: ActivityType = strawberry.field(description=_TYPE)
    subject: str = strawberry.field(description=_SUBJECT)
    body: str | None = strawberry.field(default=None, description=_BODY)
    due_at: datetime | None = strawberry.field(default=None, description=_DUE_AT)
    assignee_id: strawberry.ID | None = strawberry.field(default=None, description=_ASSIGNEE)
    contact_id: strawberry.ID | None = strawberry.field(default=None, description=_CONTACT)
    company_id: strawberry.ID | None = strawberry.field(default=None, description=_COMPANY)
    deal_id: strawberry.ID | None = strawberry.field(default=None, description=_DEAL)


@strawberry.input(
    description="Changes to an activity: only the fields sent change; null clears a field that "
    "may be empty (null for `type` or `subject` is BAD_USER_INPUT). It must keep a contact or a "
    "company."
)
class UpdateActivityInput:
    type: ActivityType | None = strawberry.field(default=strawberry.UNSET, description=_TYPE)
    subject: str | None = strawberry.field(default=strawberry.UNSET, description=_SUBJECT)
    body: str | None = strawberry.field(default=strawberry.UNSET, description=_BODY)
    due_at: datetime | None = strawberry.field(default=strawberry.UNSET, description=_DUE_AT)
    assignee_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description=_ASSIGNEE
    )
    contact_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description=_CONTACT
    )
    company_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description=_COMPANY
    )
    deal_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description=_DEAL)


@strawberry.input(
    description="Which activities a list holds: every field that is set must match (null or "
    "not sent: no condition). Malformed ids and instants without offset: BAD_USER_INPUT."
)
class ActivityFilter:
    type: list[ActivityType] | None = strawberry.field(
        default=None, description="Any of these kinds ([]: none matches)."
    )
    contact_id: strawberry.ID | None = strawberry.field(
        default=None, description="Linked to this contact."
    )
    company_id: strawberry.ID | None = strawberry.field(
        default=None, description="Linked to this company (see includeContacts)."
    )
    include_contacts: bool = strawberry.field(
        default=False,
        description="With companyId: also the activities of the company's contacts (the feed).",
    )
    deal_id: strawberry.ID | None = strawberry.field(
        default=None, description="Linked to this deal."
    )
    assignee_id: strawberry.ID | None = strawberry.field(
        default=None, description="Assigned to this user."
    )
    due_from: datetime | None = strawberry.field(
        default=None, description="Due at or after this instant (inclusive)."
    )
    due_to: datetime | None = strawberry.field(
        default=None, description="Due at or before this instant (inclusive)."
    )
    overdue: bool | None = strawberry.field(
        default=None,
        description="true: open with a due date in the past; false: everything else.",
    )
    completed: bool | None = strawberry.field(
        default=None, description="true: done (completedAt set); false: open."
    )
    search: str | None = strawberry.field(default=None, description=SEARCH_FILTER)
    assigned_to_me: bool | None = strawberry.field(
        default=None,
        description="true: assigned to the caller; false: to someone else or nobody. Needs a user.",
    )
    deal: Annotated[DealFilter, strawberry.lazy("resolvers.deals.inputs")] | None = (
        strawberry.field(default=None, description=TO_ONE)
    )
    company: Annotated[CompanyFilter, strawberry.lazy("resolvers.companies.inputs")] | None = (
        strawberry.field(default=None, description=TO_ONE)
    )
    contact: Annotated[ContactFilter, strawberry.lazy("resolvers.contacts.inputs")] | None = (
        strawberry.field(default=None, description=TO_ONE)
    )
    and_: list[ActivityFilter] | None = strawberry.field(default=None, name="and", description=AND)
    or_: list[ActivityFilter] | None = strawberry.field(default=None, name="or", description=OR)
    not_: ActivityFilter | None = strawberry.field(default=None, name="not", description=NOT)


@strawberry.input(description=f"{LIST_FILTER} (the activities of a company, contact or deal)")
class ActivityListFilter:
    some: ActivityFilter | None = strawberry.field(default=None, description=SOME)
    none: ActivityFilter | None = strawberry.field(default=None, description=NONE)
    every: ActivityFilter | None = strawberry.field(default=None, description=EVERY)


@strawberry.input(description="How activities are sorted; ties by id, so paging is stable.")
class ActivityOrder:
    field: ActivityOrderField = strawberry.field(
        default=ActivityOrderField.CREATED_AT,
        description="What to sort by; CREATED_AT if not sent.",
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="DESC (newest first) when not sent."
    )
