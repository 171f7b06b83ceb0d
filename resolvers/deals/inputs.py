"""Deal inputs, filter and order."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from app.services.deals.queries import DealOrderField
from models.enums import DealStatus, LostReason, OwnerRole
from resolvers.common.enums import OrderDirection
from resolvers.common.inputs import SEARCH_FILTER
from resolvers.owners.types import CREATE_OWNERS

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


@strawberry.input
class DealOrder:
    field: DealOrderField = DealOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.DESC
