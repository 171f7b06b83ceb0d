"""Contact inputs, filter and order."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry

from app.services.contacts.queries import ContactOrderField
from models.enums import ContactSource, EntityStatus
from resolvers.common import shared_descriptions as texts
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

described_enum(
    ContactOrderField,
    "What contacts are sorted by (records without the value last in both directions).",
    {
        "NAME": "Last name, then first name, ignoring case.",
        "CREATED_AT": "When created.",
        "UPDATED_AT": "When last changed.",
        "FIRST_NAME": "First name, ignoring case.",
        "LAST_NAME": "Last name, ignoring case.",
        "STATUS": "Lifecycle state, in the order ACTIVE, INACTIVE, BLOCKED.",
        "POSITION": "Job title.",
        "DEPARTMENT": "Department.",
        "BIRTHDAY": "Date of birth.",
        "COMPANY_NAME": "The name of their company.",
        "LAST_ACTIVITY_AT": "When an activity of the contact was last completed (lastActivityAt).",
        "NEXT_ACTIVITY_DUE_AT": "The earliest due date of their open activities "
        "(nextActivityDueAt).",
        "OPEN_DEAL_COUNT": "How many OPEN deals they are the contact of.",
        "OPEN_DEAL_VALUE": "The sum of their OPEN deals in `currency` (0 without one).",
    },
)


_LAST_NAME = "Last name (or the only name known); 1-100 characters (trimmed)."
_FIRST_NAME = "First name, at most 100 characters."
_SALUTATION = "Salutation for letters, e.g. Herr, Frau; at most 50 characters."
_TITLE = "Academic title, e.g. Dr.; at most 50 characters."
_POSITION = "Job title, at most 100 characters."
_DEPARTMENT = "Department, at most 100 characters."
_COMPANY = "The company they work at; unknown or trashed: NOT_FOUND."
_LINKEDIN = (
    "A LinkedIn profile URL, e.g. https://www.linkedin.com/in/anna-schmidt (linkedin.com/in/... "
    "without https:// is accepted); anything else: BAD_USER_INPUT."
)
_BIRTHDAY = "Date of birth, from 1900 and not in the future (else BAD_USER_INPUT)."
_SOURCE = "How the team came to know them."


@strawberry.input(
    description="A new contact. Only `lastName` is required; empty texts are stored as null. "
    "Member or admin."
)
class CreateContactInput:
    last_name: str = strawberry.field(description=_LAST_NAME)
    first_name: str | None = strawberry.field(default=None, description=_FIRST_NAME)
    salutation: str | None = strawberry.field(default=None, description=_SALUTATION)
    title: str | None = strawberry.field(default=None, description=_TITLE)
    position: str | None = strawberry.field(default=None, description=_POSITION)
    department: str | None = strawberry.field(default=None, description=_DEPARTMENT)
    company_id: strawberry.ID | None = strawberry.field(default=None, description=_COMPANY)
    status: EntityStatus | None = strawberry.field(
        default=strawberry.UNSET, description="Lifecycle state; ACTIVE when not sent."
    )
    linkedin_url: str | None = strawberry.field(default=None, description=_LINKEDIN)
    birthday: date | None = strawberry.field(default=None, description=_BIRTHDAY)
    source: ContactSource | None = strawberry.field(default=None, description=_SOURCE)
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description=TAGS)
    notes: str | None = strawberry.field(default=None, description=texts.NOTES)
    emails: list[EmailInput] | None = strawberry.field(
        default=strawberry.UNSET, description=texts.EMAILS_INPUT
    )
    phones: list[PhoneInput] | None = strawberry.field(
        default=strawberry.UNSET, description=texts.PHONES_INPUT
    )
    owners: list[OwnerInput] | None = strawberry.field(
        default=strawberry.UNSET, description=CREATE_OWNERS
    )
    reject_duplicates: bool = strawberry.field(default=False, description=REJECT_DUPLICATES)


@strawberry.input(
    description="Changes to a contact: only the fields sent change; null clears a field that "
    "may be empty (null for `lastName`, `status` or `tags` is BAD_USER_INPUT); emails/phones "
    "replace whole lists. The rules of CreateContactInput apply."
)
class UpdateContactInput:
    last_name: str | None = strawberry.field(default=strawberry.UNSET, description=_LAST_NAME)
    first_name: str | None = strawberry.field(default=strawberry.UNSET, description=_FIRST_NAME)
    salutation: str | None = strawberry.field(default=strawberry.UNSET, description=_SALUTATION)
    title: str | None = strawberry.field(default=strawberry.UNSET, description=_TITLE)
    position: str | None = strawberry.field(default=strawberry.UNSET, description=_POSITION)
    department: str | None = strawberry.field(default=strawberry.UNSET, description=_DEPARTMENT)
    company_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description=_COMPANY
    )
    status: EntityStatus | None = strawberry.field(
        default=strawberry.UNSET, description="Lifecycle state."
    )
    linkedin_url: str | None = strawberry.field(default=strawberry.UNSET, description=_LINKEDIN)
    birthday: date | None = strawberry.field(default=strawberry.UNSET, description=_BIRTHDAY)
    source: ContactSource | None = strawberry.field(default=strawberry.UNSET, description=_SOURCE)
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description=TAGS)
    notes: str | None = strawberry.field(default=strawberry.UNSET, description=texts.NOTES)
    emails: list[EmailInput] | None = strawberry.field(
        default=strawberry.UNSET, description=texts.EMAILS_INPUT
    )
    phones: list[PhoneInput] | None = strawberry.field(
        default=strawberry.UNSET, description=texts.PHONES_INPUT
    )
    reject_duplicates: bool = strawberry.field(default=False, description=REJECT_DUPLICATES)


@strawberry.input(
    description="Which contacts a list holds: every field that is set must match (null or not "
    "sent: no condition). Malformed ids: BAD_USER_INPUT."
)
class ContactFilter:
    search: str | None = strawberry.field(default=None, description=SEARCH_FILTER)
    company_id: strawberry.ID | None = strawberry.field(
        default=None, description="Working at this company."
    )
    status: list[EntityStatus] | None = strawberry.field(
        default=None, description="Any of these states ([]: none matches)."
    )
    source: list[ContactSource] | None = strawberry.field(
        default=None, description="Any of these sources ([]: none matches)."
    )
    tag: str | None = strawberry.field(default=None, description=TAG_FILTER)
    department: str | None = strawberry.field(
        default=None, description="This department exactly, ignoring case (Einkauf = einkauf)."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="A user id: this user is among the owners (any role)."
    )
    owned_by_me: bool | None = strawberry.field(default=None, description=OWNED_BY_ME)
    owners: Annotated[OwnerListFilter, strawberry.lazy("resolvers.owners.types")] | None = (
        strawberry.field(default=None, description="Its owners (users with a role).")
    )
    company: Annotated[CompanyFilter, strawberry.lazy("resolvers.companies.inputs")] | None = (
        strawberry.field(default=None, description=TO_ONE)
    )
    deals: Annotated[DealListFilter, strawberry.lazy("resolvers.deals.inputs")] | None = (
        strawberry.field(default=None, description="The deals they are the contact of.")
    )
    activities: (
        Annotated[ActivityListFilter, strawberry.lazy("resolvers.activities.inputs")] | None
    ) = strawberry.field(default=None, description="The activities linked to them.")
    and_: list[ContactFilter] | None = strawberry.field(default=None, name="and", description=AND)
    or_: list[ContactFilter] | None = strawberry.field(default=None, name="or", description=OR)
    not_: ContactFilter | None = strawberry.field(default=None, name="not", description=NOT)


@strawberry.input(description=f"{LIST_FILTER} (a company's contacts)")
class ContactListFilter:
    some: ContactFilter | None = strawberry.field(default=None, description=SOME)
    none: ContactFilter | None = strawberry.field(default=None, description=NONE)
    every: ContactFilter | None = strawberry.field(default=None, description=EVERY)


@strawberry.input(description="How contacts are sorted; ties by id, so paging is stable.")
class ContactOrder:
    field: ContactOrderField = strawberry.field(
        default=ContactOrderField.NAME, description="What to sort by; NAME when not sent."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="ASC when not sent."
    )
    currency: str | None = strawberry.field(
        default=None,
        description="The currency OPEN_DEAL_VALUE compares (ISO 4217, default EUR): records "
        "by the sum of their open deals in it, 0 without one; other currencies do not count.",
    )
