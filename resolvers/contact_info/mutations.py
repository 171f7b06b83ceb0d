"""Add, remove and choose the primary e-mail address or phone number, one at a time."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from app.services.contact_info import service
from app.services.contact_info.rules import EMAILS, PHONES, ValueKind, ValueRowT
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.common.shared_descriptions import WriteId
from resolvers.contact_info.payloads import (
    EmailPayload,
    EmailRemovalPayload,
    EmailWritten,
    PhonePayload,
    PhoneRemovalPayload,
    PhoneWritten,
    ValueRemoved,
)
from resolvers.contact_info.types import EmailInput, PhoneInput
from resolvers.context import Context
from resolvers.permissions import CanWrite

WRITE: list[type[BasePermission]] = [CanWrite]

_ADDED = (
    "(member, admin). At most 20 per record (one more: BAD_USER_INPUT); {one} the record has "
    "already ({same}): CONFLICT; an invalid one: BAD_USER_INPUT. The record's first {noun}, or "
    "one sent with isPrimary, becomes its primary. Event crm.{record}.updated with the list "
    "before and after; answers the {noun} and the {record} as they are now."
)
_PRIMARY = (
    "Make this the primary {noun} of its company or contact (member, admin); the former "
    "primary no longer is. Event crm.<company|contact>.updated (unless it was already "
    "primary); answers the {noun} and its record as they are now."
)
_REMOVED = (
    "Remove this {noun} (member, admin); if it was the primary, the oldest other one becomes "
    "primary. Event crm.<company|contact>.updated; answers its id and its record as it is now."
)
_EMAIL = {"noun": "address", "one": "an address", "same": "ignoring case"}
_PHONE = {"noun": "number", "one": "a number", "same": "the same digits"}

EmailId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="The address's id (`Email.id`). Unknown, another tenant's or of a record "
        "in the trash: NOT_FOUND; not a UUID: BAD_USER_INPUT."
    ),
]
PhoneId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="The number's id (`Phone.id`). Unknown, another tenant's or of a record "
        "in the trash: NOT_FOUND; not a UUID: BAD_USER_INPUT."
    ),
]
NewEmail = Annotated[EmailInput, strawberry.argument(description="The address to add.")]
NewPhone = Annotated[PhoneInput, strawberry.argument(description="The number to add.")]


async def _add(
    info: Info[Context, None], kind: ValueKind[ValueRowT], owner: str, id: str, data: object
) -> ValueRowT:
    owner_id = {owner: parse_id(id, f"{owner.split('_')[0]}Id")}
    return await service.add_value(info.context.scope, kind, owner_id, sent_fields(data))


@strawberry.type
class ContactInfoMutations:
    @strawberry.mutation(
        permission_classes=WRITE,
        description="Add an e-mail address to a company "
        + _ADDED.format(record="company", **_EMAIL),
        graphql_type=EmailPayload,
    )
    async def add_company_email(
        self, info: Info[Context, None], company_id: WriteId, input: NewEmail
    ) -> EmailWritten:
        return EmailWritten.of(await _add(info, EMAILS, "company_id", company_id, input))

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Add an e-mail address to a contact "
        + _ADDED.format(record="contact", **_EMAIL),
        graphql_type=EmailPayload,
    )
    async def add_contact_email(
        self, info: Info[Context, None], contact_id: WriteId, input: NewEmail
    ) -> EmailWritten:
        return EmailWritten.of(await _add(info, EMAILS, "contact_id", contact_id, input))

    @strawberry.mutation(
        permission_classes=WRITE,
        description=_PRIMARY.format(**_EMAIL),
        graphql_type=EmailPayload,
    )
    async def set_primary_email(self, info: Info[Context, None], id: EmailId) -> EmailWritten:
        return EmailWritten.of(await service.set_primary(info.context.scope, EMAILS, parse_id(id)))

    @strawberry.mutation(
        permission_classes=WRITE,
        description=_REMOVED.format(**_EMAIL),
        graphql_type=EmailRemovalPayload,
    )
    async def remove_email(self, info: Info[Context, None], id: EmailId) -> ValueRemoved:
        return ValueRemoved.of(await service.remove_value(info.context.scope, EMAILS, parse_id(id)))

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Add a phone number to a company " + _ADDED.format(record="company", **_PHONE),
        graphql_type=PhonePayload,
    )
    async def add_company_phone(
        self, info: Info[Context, None], company_id: WriteId, input: NewPhone
    ) -> PhoneWritten:
        return PhoneWritten.of(await _add(info, PHONES, "company_id", company_id, input))

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Add a phone number to a contact " + _ADDED.format(record="contact", **_PHONE),
        graphql_type=PhonePayload,
    )
    async def add_contact_phone(
        self, info: Info[Context, None], contact_id: WriteId, input: NewPhone
    ) -> PhoneWritten:
        return PhoneWritten.of(await _add(info, PHONES, "contact_id", contact_id, input))

    @strawberry.mutation(
        permission_classes=WRITE,
        description=_PRIMARY.format(**_PHONE),
        graphql_type=PhonePayload,
    )
    async def set_primary_phone(self, info: Info[Context, None], id: PhoneId) -> PhoneWritten:
        return PhoneWritten.of(await service.set_primary(info.context.scope, PHONES, parse_id(id)))

    @strawberry.mutation(
        permission_classes=WRITE,
        description=_REMOVED.format(**_PHONE),
        graphql_type=PhoneRemovalPayload,
    )
    async def remove_phone(self, info: Info[Context, None], id: PhoneId) -> ValueRemoved:
        return ValueRemoved.of(await service.remove_value(info.context.scope, PHONES, parse_id(id)))
