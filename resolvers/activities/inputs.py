"""Activity inputs, filter and order."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from app.services.activities.queries import ActivityOrderField
from models.enums import ActivityType
from resolvers.common.enums import OrderDirection
from resolvers.common.filters import AND, EVERY, LIST_FILTER, NONE, NOT, OR, SOME, TO_ONE

if TYPE_CHECKING:
    from resolvers.companies.inputs import CompanyFilter
    from resolvers.contacts.inputs import ContactFilter
    from resolvers.deals.inputs import DealFilter

from resolvers.common.inputs import SEARCH_FILTER

strawberry.enum(ActivityOrderField, description="What activities are sorted by.")


@strawberry.input(description="Needs a contact or a company (or both).")
class CreateActivityInput:
    type: ActivityType
    subject: str
    body: str | None = None
    due_at: datetime | None = None
    assignee_id: strawberry.ID | None = None
    contact_id: strawberry.ID | None = None
    company_id: strawberry.ID | None = None
    deal_id: strawberry.ID | None = None


@strawberry.input(description="Only the fields sent change.")
class UpdateActivityInput:
    type: ActivityType | None = strawberry.UNSET
    subject: str | None = strawberry.UNSET
    body: str | None = strawberry.UNSET
    due_at: datetime | None = strawberry.UNSET
    assignee_id: strawberry.ID | None = strawberry.UNSET
    contact_id: strawberry.ID | None = strawberry.UNSET
    company_id: strawberry.ID | None = strawberry.UNSET
    deal_id: strawberry.ID | None = strawberry.UNSET


@strawberry.input
class ActivityFilter:
    type: list[ActivityType] | None = None
    contact_id: strawberry.ID | None = None
    company_id: strawberry.ID | None = None
    include_contacts: bool = strawberry.field(
        default=False,
        description="With companyId: also the activities of the company's contacts (the feed).",
    )
    deal_id: strawberry.ID | None = None
    assignee_id: strawberry.ID | None = None
    due_from: datetime | None = None
    due_to: datetime | None = None
    overdue: bool | None = None
    completed: bool | None = None
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


@strawberry.input
class ActivityOrder:
    field: ActivityOrderField = ActivityOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.DESC
