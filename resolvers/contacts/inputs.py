"""Contact inputs, filter and order."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry

from app.services.contacts.queries import ContactOrderField
from models.enums import ContactSource, EntityStatus
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
from resolvers.contact_info.types import EmailInput, PhoneInput
from resolvers.duplicates.inputs import REJECT_DUPLICATES
from resolvers.owners.types import CREATE_OWNERS, OwnerInput

if TYPE_CHECKING:
    from resolvers.activities.inputs import ActivityListFilter
    from resolvers.companies.inputs import CompanyFilter
    from resolvers.deals.inputs import DealListFilter
    from resolvers.owners.types import OwnerListFilter


TAGS = (
    "Kept as spelled; compared ignoring case, so `ERP` and `erp` are one tag (the first "
    "spelling stays)."
)
TAG_FILTER = "Records with this tag, in any case (`erp` finds `ERP`)."

strawberry.enum(ContactOrderField, description="What contacts are sorted by.")


@strawberry.input
class CreateContactInput:
    last_name: str
    first_name: str | None = None
    salutation: str | None = None
    title: str | None = None
    position: str | None = None
    department: str | None = None
    company_id: strawberry.ID | None = None
    status: EntityStatus | None = strawberry.UNSET
    linkedin_url: str | None = None
    birthday: date | None = None
    source: ContactSource | None = None
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description=TAGS)
    notes: str | None = None
    emails: list[EmailInput] | None = strawberry.UNSET
    phones: list[PhoneInput] | None = strawberry.UNSET
    owners: list[OwnerInput] | None = strawberry.field(
        default=strawberry.UNSET, description=CREATE_OWNERS
    )
    reject_duplicates: bool = strawberry.field(default=False, description=REJECT_DUPLICATES)


@strawberry.input(description="Only the fields sent change; emails/phones replace whole lists.")
class UpdateContactInput:
    last_name: str | None = strawberry.UNSET
    first_name: str | None = strawberry.UNSET
    salutation: str | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    position: str | None = strawberry.UNSET
    department: str | None = strawberry.UNSET
    company_id: strawberry.ID | None = strawberry.UNSET
    status: EntityStatus | None = strawberry.UNSET
    linkedin_url: str | None = strawberry.UNSET
    birthday: date | None = strawberry.UNSET
    source: ContactSource | None = strawberry.UNSET
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description=TAGS)
    notes: str | None = strawberry.UNSET
    emails: list[EmailInput] | None = strawberry.UNSET
    phones: list[PhoneInput] | None = strawberry.UNSET
    reject_duplicates: bool = strawberry.field(default=False, description=REJECT_DUPLICATES)


@strawberry.input
class ContactFilter:
    search: str | None = strawberry.field(default=None, description=SEARCH_FILTER)
    company_id: strawberry.ID | None = None
    status: list[EntityStatus] | None = None
    source: list[ContactSource] | None = None
    tag: str | None = strawberry.field(default=None, description=TAG_FILTER)
    department: str | None = None
    owner_id: strawberry.ID | None = strawberry.field(default=None, description="A user id.")
    owned_by_me: bool | None = strawberry.field(default=None, description=OWNED_BY_ME)
    owners: Annotated[OwnerListFilter, strawberry.lazy("resolvers.owners.types")] | None = None
    company: Annotated[CompanyFilter, strawberry.lazy("resolvers.companies.inputs")] | None = (
        strawberry.field(default=None, description=TO_ONE)
    )
    deals: Annotated[DealListFilter, strawberry.lazy("resolvers.deals.inputs")] | None = None
    activities: (
        Annotated[ActivityListFilter, strawberry.lazy("resolvers.activities.inputs")] | None
    ) = None
    and_: list[ContactFilter] | None = strawberry.field(default=None, name="and", description=AND)
    or_: list[ContactFilter] | None = strawberry.field(default=None, name="or", description=OR)
    not_: ContactFilter | None = strawberry.field(default=None, name="not", description=NOT)


@strawberry.input(description=f"{LIST_FILTER} (a company's contacts)")
class ContactListFilter:
    some: ContactFilter | None = strawberry.field(default=None, description=SOME)
    none: ContactFilter | None = strawberry.field(default=None, description=NONE)
    every: ContactFilter | None = strawberry.field(default=None, description=EVERY)


@strawberry.input
class ContactOrder:
    field: ContactOrderField = ContactOrderField.NAME
    direction: OrderDirection = OrderDirection.ASC
    currency: str | None = strawberry.field(
        default=None,
        description="The currency OPEN_DEAL_VALUE compares (ISO 4217, default EUR): records "
        "by the sum of their open deals in it, 0 without one; other currencies do not count.",
    )
