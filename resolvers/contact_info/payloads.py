"""What the e-mail and phone mutations answer: the value and the record whose list it is in,
read after the change (`company { emails }` or `contact { phones }` as they are now, primary
flags included), so a client's cache of that record follows without a refetch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Protocol

import strawberry
from strawberry.types import Info

from app.services.companies.rows import CompanyRow
from app.services.companies.rules import COMPANY
from app.services.contact_info.rows import EmailRow, PhoneRow, ValueRow
from app.services.contacts.rows import ContactRow
from app.services.contacts.rules import CONTACT
from resolvers.common.relations import rows_field
from resolvers.common.written import read_back_if
from resolvers.contact_info.types import Email, Phone
from resolvers.context import Context

if TYPE_CHECKING:
    from resolvers.companies.types import Company
    from resolvers.contacts.types import Contact

CompanyRef = Annotated["Company", strawberry.lazy("resolvers.companies.types")]
ContactRef = Annotated["Contact", strawberry.lazy("resolvers.contacts.types")]


class ValueHolder(Protocol):
    """Whose value it is: exactly one of the two is set."""

    company_id: uuid.UUID | None
    contact_id: uuid.UUID | None


@dataclass(frozen=True)
class EmailWritten:
    email: EmailRow
    company_id: uuid.UUID | None
    contact_id: uuid.UUID | None

    @classmethod
    def of(cls, row: EmailRow) -> EmailWritten:
        return cls(row, row.company_id, row.contact_id)


@dataclass(frozen=True)
class PhoneWritten:
    phone: PhoneRow
    company_id: uuid.UUID | None
    contact_id: uuid.UUID | None

    @classmethod
    def of(cls, row: PhoneRow) -> PhoneWritten:
        return cls(row, row.company_id, row.contact_id)


@dataclass(frozen=True)
class ValueRemoved:
    removed_id: uuid.UUID
    company_id: uuid.UUID | None
    contact_id: uuid.UUID | None

    @classmethod
    def of(cls, row: ValueRow) -> ValueRemoved:
        return cls(row.id, row.company_id, row.contact_id)


async def _company(
    root: strawberry.Parent[ValueHolder], info: Info[Context, None]
) -> CompanyRow | None:
    return await read_back_if(info, COMPANY, root.company_id)


async def _contact(
    root: strawberry.Parent[ValueHolder], info: Info[Context, None]
) -> ContactRow | None:
    return await read_back_if(info, CONTACT, root.contact_id)


COMPANY_AFTER = (
    "The company whose list it is, as it is after the change (its `emails` and `phones` "
    "current); null when it is a contact's."
)
CONTACT_AFTER = (
    "The contact whose list it is, as it is after the change (its `emails` and `phones` "
    "current); null when it is a company's."
)


@strawberry.type(
    description="An e-mail address that was added or made primary, with the company or "
    "contact it belongs to as they are after the change."
)
class EmailPayload:
    email: Email = strawberry.field(description="The address as stored now.")
    company: CompanyRef | None = rows_field(_company, COMPANY_AFTER)
    contact: ContactRef | None = rows_field(_contact, CONTACT_AFTER)


@strawberry.type(
    description="An e-mail address that was removed, with the company or contact it belonged "
    "to as they are after the change (another address may have become primary)."
)
class EmailRemovalPayload:
    removed_id: strawberry.ID = strawberry.field(description="The id of the removed address.")
    company: CompanyRef | None = rows_field(_company, COMPANY_AFTER)
    contact: ContactRef | None = rows_field(_contact, CONTACT_AFTER)


@strawberry.type(
    description="A phone number that was added or made primary, with the company or contact "
    "it belongs to as they are after the change."
)
class PhonePayload:
    phone: Phone = strawberry.field(description="The number as stored now.")
    company: CompanyRef | None = rows_field(_company, COMPANY_AFTER)
    contact: ContactRef | None = rows_field(_contact, CONTACT_AFTER)


@strawberry.type(
    description="A phone number that was removed, with the company or contact it belonged to "
    "as they are after the change (another number may have become primary)."
)
class PhoneRemovalPayload:
    removed_id: strawberry.ID = strawberry.field(description="The id of the removed number.")
    company: CompanyRef | None = rows_field(_company, COMPANY_AFTER)
    contact: ContactRef | None = rows_field(_contact, CONTACT_AFTER)
