"""Deal inputs, filter and order."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from app.services.deals.queries import DealOrderField
from models.enums import DealStatus, LostReason, OwnerRole
from resolvers.common.enums import OrderDirection
from resolvers.common.filters import (
    AND,
    EVERY,
    LIST_FILTER,
    NONE,
    NOT,
    OR,
    OWNED_BY_ME,
    SOME,
    TO_ONE,
)
from resolvers.common.inputs import SEARCH_FILTER
from resolvers.owners.types import CREATE_OWNERS

if TYPE_CHECKING:
    from resolvers.activities.inputs import ActivityListFilter
    from resolvers.companies.inputs import CompanyFilter
    from resolvers.contacts.inputs import ContactFilter
    from resolvers.owners.types import OwnerListFilter


strawberry.enum(DealOrderField, description="What deals are sorted by.")


@strawberry.input
class DealOwnerInput:
    user_id: strawberry.ID
    role: OwnerRole = OwnerRole.OWNER


@strawberry.input(
    description="pipelineId defaults to the default pipeline, stageId to its first open stage; "
    "a WON/LOST stage sets the status, and a status moves the deal to a stage of that kind."
)
class CreateDealInput:
    title: str
    value: Decimal | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    pipeline_id: strawberry.ID | None = None
    stage_id: strawberry.ID | None = strawberry.UNSET
    contact_id: strawberry.ID | None = None
    company_id: strawberry.ID | None = None
    expected_close_date: date | None = None
    status: DealStatus | None = strawberry.UNSET
    lost_reason: LostReason | None = strawberry.UNSET
    lost_reason_text: str | None = strawberry.UNSET
    owners: list[DealOwnerInput] | None = strawberry.field(
        default=strawberry.UNSET, description=CREATE_OWNERS
    )


@strawberry.input(description="Only the fields sent change.")
class UpdateDealInput:
    title: str | None = strawberry.UNSET
    value: Decimal | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    pipeline_id: strawberry.ID | None = strawberry.UNSET
    stage_id: strawberry.ID | None = strawberry.UNSET
    contact_id: strawberry.ID | None = strawberry.UNSET
    company_id: strawberry.ID | None = strawberry.UNSET
    expected_close_date: date | None = strawberry.UNSET
    status: DealStatus | None = strawberry.field(
        default=strawberry.UNSET,
        description="WON/LOST moves the deal to a stage of that kind. OPEN (no stageId) "
        "reopens it in the open stage it was in when it closed, if that is still an open "
        "stage of its pipeline; else in the first open stage.",
    )
    lost_reason: LostReason | None = strawberry.UNSET
    lost_reason_text: str | None = strawberry.UNSET


@strawberry.input
class DealFilter:
    search: str | None = strawberry.field(default=None, description=SEARCH_FILTER)
    pipeline_id: strawberry.ID | None = None
    stage_id: strawberry.ID | None = None
    status: list[DealStatus] | None = None
    company_id: strawberry.ID | None = None
    contact_id: strawberry.ID | None = None
    owner_id: strawberry.ID | None = None
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    expected_close_from: date | None = None
    expected_close_to: date | None = None
    closed_after: datetime | None = strawberry.field(
        default=None, description="Won or lost at or after this instant."
    )
    closed_before: datetime | None = strawberry.field(
        default=None, description="Won or lost at or before this instant."
    )
    owned_by_me: bool | None = strawberry.field(default=None, description=OWNED_BY_ME)
    owners: Annotated[OwnerListFilter, strawberry.lazy("resolvers.owners.types")] | None = None
    company: Annotated[CompanyFilter, strawberry.lazy("resolvers.companies.inputs")] | None = (
        strawberry.field(default=None, description=TO_ONE)
    )
    contact: Annotated[ContactFilter, strawberry.lazy("resolvers.contacts.inputs")] | None = (
        strawberry.field(default=None, description=TO_ONE)
    )
    activities: (
        Annotated[ActivityListFilter, strawberry.lazy("resolvers.activities.inputs")] | None
    ) = None
    and_: list[DealFilter] | None = strawberry.field(default=None, name="and", description=AND)
    or_: list[DealFilter] | None = strawberry.field(default=None, name="or", description=OR)
    not_: DealFilter | None = strawberry.field(default=None, name="not", description=NOT)


@strawberry.input(description=f"{LIST_FILTER} (a company's or a contact's deals)")
class DealListFilter:
    some: DealFilter | None = strawberry.field(default=None, description=SOME)
    none: DealFilter | None = strawberry.field(default=None, description=NONE)
    every: DealFilter | None = strawberry.field(default=None, description=EVERY)


@strawberry.input
class DealOrder:
    field: DealOrderField = DealOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.DESC
