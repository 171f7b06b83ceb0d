"""Deal inputs, filter and order."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from app.services.deals.queries import DealOrderField
from models.enums import DealStatus, LostReason, OwnerRole
from resolvers.common.described import described_enum
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


described_enum(
    DealOrderField,
    "What deals are sorted by; ties by id, so paging is stable.",
    {
        "CREATED_AT": "When the deal was created (the default).",
        "VALUE": "The amount of `value`, whatever its currency (amounts are not converted).",
        "EXPECTED_CLOSE_DATE": "The expected close date; deals without one last, both ways.",
        "UPDATED_AT": "When the deal was last changed.",
        "TITLE": "The title, ignoring case.",
        "STATUS": "The status in the order OPEN, WON, LOST.",
        "CLOSED_AT": "When the deal was won or lost; open deals last, both ways.",
        "STAGE": "The position of its stage on the board (meant for one pipeline's deals).",
        "COMPANY_NAME": "The customer company's name, ignoring case; deals without one last.",
    },
)

_TITLE = "What the deal is about, as shown on the board card; 1-200 characters."
_VALUE = "What the deal is worth in `currency`: 0 or more, at most 2 decimals, below 10^12."
_CURRENCY = "An ISO 4217 code such as EUR or CHF (any case); an unknown code is BAD_USER_INPUT."
_LOST_REASON = "Why the deal was lost: required when it ends up LOST, refused otherwise."
_LOST_TEXT = "The reason in words, at most 500 characters: required for lostReason OTHER."
_CLOSE_DATE = "When the team expects to close the deal (YYYY-MM-DD); null: not planned."
_COMPANY = "The customer company (not one in the trash: NOT_FOUND)."
_CONTACT = "The contact person at the customer (not one in the trash: NOT_FOUND)."
_VOUCHERS_STAY = (
    " With vouchers linked, the new one must still be their Lexware customer, else CONFLICT."
)


@strawberry.input(description="A user and the role they get on a new deal.")
class DealOwnerInput:
    user_id: strawberry.ID = strawberry.field(
        description="A user of the tenant (see `users`); an unknown id is NOT_FOUND."
    )
    role: OwnerRole = strawberry.field(
        default=OwnerRole.OWNER, description="Their role on the deal; OWNER when not sent."
    )


@strawberry.input(
    description="pipelineId defaults to the default pipeline, stageId to its first open stage; "
    "a WON/LOST stage sets the status, and a status moves the deal to a stage of that kind."
)
class CreateDealInput:
    title: str = strawberry.field(description=_TITLE)
    value: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description=f"{_VALUE} Not sent: 0 (null is BAD_USER_INPUT)."
    )
    currency: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"{_CURRENCY} Not sent: EUR (null is BAD_USER_INPUT)."
    )
    pipeline_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The pipeline to put the deal on; null: the tenant's default pipeline "
        "(BAD_USER_INPUT when there is no pipeline yet).",
    )
    stage_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The stage to start in, a stage of that pipeline (else BAD_USER_INPUT); "
        "not sent: the first stage of the kind `status` asks for, else the first open stage.",
    )
    contact_id: strawberry.ID | None = strawberry.field(default=None, description=_CONTACT)
    company_id: strawberry.ID | None = strawberry.field(default=None, description=_COMPANY)
    expected_close_date: date | None = strawberry.field(default=None, description=_CLOSE_DATE)
    status: DealStatus | None = strawberry.field(
        default=strawberry.UNSET,
        description="OPEN, WON or LOST: puts the deal in the pipeline's first stage of that "
        "kind. With stageId it must match the stage's kind (else BAD_USER_INPUT).",
    )
    lost_reason: LostReason | None = strawberry.field(
        default=strawberry.UNSET, description=_LOST_REASON
    )
    lost_reason_text: str | None = strawberry.field(
        default=strawberry.UNSET, description=_LOST_TEXT
    )
    owners: list[DealOwnerInput] | None = strawberry.field(
        default=strawberry.UNSET, description=CREATE_OWNERS
    )


@strawberry.input(description="Only the fields sent change.")
class UpdateDealInput:
    title: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"{_TITLE} Cannot be null."
    )
    value: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description=f"{_VALUE} Cannot be null."
    )
    currency: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"{_CURRENCY} Cannot be null."
    )
    pipeline_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Move the deal to another pipeline: to `stageId` if sent, else to that "
        "pipeline's first stage of the deal's status kind. Cannot be null.",
    )
    stage_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Move the deal to this stage of its (new) pipeline; its kind sets the "
        "status (as moveDealToStage does). Cannot be null.",
    )
    contact_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description=f"{_CONTACT} null: no contact.{_VOUCHERS_STAY}"
    )
    company_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description=f"{_COMPANY} null: no company.{_VOUCHERS_STAY}"
    )
    expected_close_date: date | None = strawberry.field(
        default=strawberry.UNSET, description=_CLOSE_DATE
    )
    status: DealStatus | None = strawberry.field(
        default=strawberry.UNSET,
        description="WON/LOST moves the deal to a stage of that kind. OPEN (no stageId) "
        "reopens it in the open stage it was in when it closed, if that is still an open "
        "stage of its pipeline; else in the first open stage. Cannot be null.",
    )
    lost_reason: LostReason | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"{_LOST_REASON} Not sent: a lost deal keeps its reason.",
    )
    lost_reason_text: str | None = strawberry.field(
        default=strawberry.UNSET, description=_LOST_TEXT
    )


@strawberry.input(
    description="Which deals a list shows: every field that is set must match (AND); unset "
    "fields do not filter."
)
class DealFilter:
    search: str | None = strawberry.field(default=None, description=SEARCH_FILTER)
    pipeline_id: strawberry.ID | None = strawberry.field(
        default=None, description="Deals on this pipeline (the board's deals)."
    )
    stage_id: strawberry.ID | None = strawberry.field(
        default=None, description="Deals in this stage (one board column)."
    )
    status: list[DealStatus] | None = strawberry.field(
        default=None, description="Deals with any of these statuses ([]: no condition)."
    )
    company_id: strawberry.ID | None = strawberry.field(
        default=None, description="Deals of this customer company."
    )
    contact_id: strawberry.ID | None = strawberry.field(
        default=None, description="Deals with this contact person."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="Deals this user is an owner of, in any role."
    )
    value_min: Decimal | None = strawberry.field(
        default=None,
        description="Deals worth at least this much (inclusive; any currency, not converted); "
        "10^12 or more is BAD_USER_INPUT.",
    )
    value_max: Decimal | None = strawberry.field(
        default=None,
        description="Deals worth at most this much (inclusive; any currency, not converted).",
    )
    expected_close_from: date | None = strawberry.field(
        default=None, description="Expected to close on or after this day (inclusive)."
    )
    expected_close_to: date | None = strawberry.field(
        default=None, description="Expected to close on or before this day (inclusive)."
    )
    closed_after: datetime | None = strawberry.field(
        default=None, description="Won or lost at or after this instant."
    )
    closed_before: datetime | None = strawberry.field(
        default=None, description="Won or lost at or before this instant."
    )
    owned_by_me: bool | None = strawberry.field(default=None, description=OWNED_BY_ME)
    owners: Annotated[OwnerListFilter, strawberry.lazy("resolvers.owners.types")] | None = (
        strawberry.field(default=None, description="By the deal's owners (some, none, every).")
    )
    company: Annotated[CompanyFilter, strawberry.lazy("resolvers.companies.inputs")] | None = (
        strawberry.field(default=None, description=TO_ONE)
    )
    contact: Annotated[ContactFilter, strawberry.lazy("resolvers.contacts.inputs")] | None = (
        strawberry.field(default=None, description=TO_ONE)
    )
    activities: (
        Annotated[ActivityListFilter, strawberry.lazy("resolvers.activities.inputs")] | None
    ) = strawberry.field(
        default=None, description="By the activities linked to the deal (some, none, every)."
    )
    and_: list[DealFilter] | None = strawberry.field(default=None, name="and", description=AND)
    or_: list[DealFilter] | None = strawberry.field(default=None, name="or", description=OR)
    not_: DealFilter | None = strawberry.field(default=None, name="not", description=NOT)


@strawberry.input(description=f"{LIST_FILTER} (a company's or a contact's deals)")
class DealListFilter:
    some: DealFilter | None = strawberry.field(default=None, description=SOME)
    none: DealFilter | None = strawberry.field(default=None, description=NONE)
    every: DealFilter | None = strawberry.field(default=None, description=EVERY)


@strawberry.input(description="How a list of deals is sorted; unset: newest first.")
class DealOrder:
    field: DealOrderField = strawberry.field(
        default=DealOrderField.CREATED_AT, description="What to sort by; CREATED_AT if not sent."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="ASC or DESC; DESC if not sent."
    )
