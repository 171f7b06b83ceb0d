"""Contract inputs, filter and order."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from app.services.contracts.queries import ContractOrderField
from models.enums import ContractStatus
from resolvers.common import shared_descriptions as texts
from resolvers.common.described import described_enum
from resolvers.common.enums import OrderDirection
from resolvers.common.filters import AND, EVERY, LIST_FILTER, NONE, NOT, OR, SOME, TO_ONE

if TYPE_CHECKING:
    from resolvers.companies.inputs import CompanyFilter

from resolvers.common.inputs import SEARCH_FILTER

described_enum(
    ContractOrderField,
    "What contracts are sorted by (records without the value last in both directions).",
    {
        "END_DATE": "End of the term (open-ended contracts last).",
        "CREATED_AT": "When created.",
        "UPDATED_AT": "When last changed.",
        "START_DATE": "Start of the term.",
        "TITLE": "Title.",
        "VALUE": "Value (the amount, whatever its currency).",
        "STATUS": "Status, in the order DRAFT, ACTIVE, EXPIRED, TERMINATED.",
    },
)


_TITLE = "What the contract is; 1-200 characters (trimmed)."
_NUMBER = "The contract number, at most 50 characters."
_START = "First day of the term, e.g. 2027-01-01."
_END = "Last day of the term; before startDate: BAD_USER_INPUT."
_VALUE = "The value in `currency`: 0 or more, at most 2 decimals and 12 digits before the point."
_CURRENCY = (
    "ISO 4217 code, any case (stored upper case); EUR when not sent. Unknown: BAD_USER_INPUT."
)
_STATUS = "Where the contract stands; DRAFT when not sent."


@strawberry.input(description="A new contract with a company. Member or admin.")
class CreateContractInput:
    company_id: strawberry.ID = strawberry.field(
        description="The company the contract is with; unknown or trashed: NOT_FOUND."
    )
    title: str = strawberry.field(description=_TITLE)
    number: str | None = strawberry.field(default=None, description=_NUMBER)
    start_date: date | None = strawberry.field(default=None, description=_START)
    end_date: date | None = strawberry.field(default=None, description=_END)
    value: Decimal | None = strawberry.field(default=None, description=_VALUE)
    currency: str | None = strawberry.field(default=strawberry.UNSET, description=_CURRENCY)
    status: ContractStatus | None = strawberry.field(default=strawberry.UNSET, description=_STATUS)
    notes: str | None = strawberry.field(default=None, description=texts.NOTES)


@strawberry.input(
    description="Changes to a contract: only the fields sent change; null clears a field that "
    "may be empty (null for `title`, `currency` or `status` is BAD_USER_INPUT). Its company "
    "cannot change."
)
class UpdateContractInput:
    title: str | None = strawberry.field(default=strawberry.UNSET, description=_TITLE)
    number: str | None = strawberry.field(default=strawberry.UNSET, description=_NUMBER)
    start_date: date | None = strawberry.field(default=strawberry.UNSET, description=_START)
    end_date: date | None = strawberry.field(default=strawberry.UNSET, description=_END)
    value: Decimal | None = strawberry.field(default=strawberry.UNSET, description=_VALUE)
    currency: str | None = strawberry.field(default=strawberry.UNSET, description=_CURRENCY)
    status: ContractStatus | None = strawberry.field(default=strawberry.UNSET, description=_STATUS)
    notes: str | None = strawberry.field(default=strawberry.UNSET, description=texts.NOTES)


@strawberry.input(
    description="Which contracts a list holds: every field that is set must match (null or not "
    "sent: no condition). Malformed ids: BAD_USER_INPUT."
)
class ContractFilter:
    company_id: strawberry.ID | None = strawberry.field(
        default=None, description="With this company."
    )
    status: list[ContractStatus] | None = strawberry.field(
        default=None, description="Any of these states ([]: none matches)."
    )
    search: str | None = strawberry.field(default=None, description=SEARCH_FILTER)
    ends_from: date | None = strawberry.field(
        default=None, description="Ending on or after this day (open-ended ones do not match)."
    )
    ends_to: date | None = strawberry.field(
        default=None, description="Ending on or before this day (open-ended ones do not match)."
    )
    company: Annotated[CompanyFilter, strawberry.lazy("resolvers.companies.inputs")] | None = (
        strawberry.field(default=None, description=TO_ONE)
    )
    and_: list[ContractFilter] | None = strawberry.field(default=None, name="and", description=AND)
    or_: list[ContractFilter] | None = strawberry.field(default=None, name="or", description=OR)
    not_: ContractFilter | None = strawberry.field(default=None, name="not", description=NOT)


@strawberry.input(description=f"{LIST_FILTER} (a company's contracts)")
class ContractListFilter:
    some: ContractFilter | None = strawberry.field(default=None, description=SOME)
    none: ContractFilter | None = strawberry.field(default=None, description=NONE)
    every: ContractFilter | None = strawberry.field(default=None, description=EVERY)


@strawberry.input(description="How contracts are sorted; ties by id, so paging is stable.")
class ContractOrder:
    field: ContractOrderField = strawberry.field(
        default=ContractOrderField.END_DATE, description="What to sort by; END_DATE if not sent."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="ASC when not sent."
    )
