"""Add, remove and choose the primary e-mail address or phone number, one at a time."""

from __future__ import annotations

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from app.services.contact_info import service
from app.services.contact_info.rules import EMAILS, PHONES, ValueKind, ValueRowT
from resolvers.common.inputs import parse_id, sent_fields
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


async def _add(
    info: Info[Context, None], kind: ValueKind[ValueRowT], owner: str, id: str, data: object
) -> ValueRowT:
    owner_id = {owner: parse_id(id, f"{owner.split('_')[0]}Id")}
    return await service.add_value(info.context.scope, kind, owner_id, sent_fields(data))


@strawberry.type
class ContactInfoMutations:
    @strawberry.mutation(
        permission_classes=WRITE,
        description="Add an e-mail address to a company.",
        graphql_type=EmailPayload,
    )
    async def add_company_email(
        self, info: Info[Context, None], company_id: strawberry.ID, input: EmailInput
    ) -> EmailWritten:
        return EmailWritten.of(await _add(info, EMAILS, "company_id", company_id, input))

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Add an e-mail address to a contact.",
        graphql_type=EmailPayload,
    )
    async def add_contact_email(
        self, info: Info[Context, None], contact_id: strawberry.ID, input: EmailInput
    ) -> EmailWritten:
        return EmailWritten.of(await _add(info, EMAILS, "contact_id", contact_id, input))

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Make this the primary address.",
        graphql_type=EmailPayload,
    )
    async def set_primary_email(self, info: Info[Context, None], id: strawberry.ID) -> EmailWritten:
        return EmailWritten.of(await service.set_primary(info.context.scope, EMAILS, parse_id(id)))

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Remove; if primary, the oldest other one becomes it.",
        graphql_type=EmailRemovalPayload,
    )
    async def remove_email(self, info: Info[Context, None], id: strawberry.ID) -> ValueRemoved:
        return ValueRemoved.of(await service.remove_value(info.context.scope, EMAILS, parse_id(id)))

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Add a phone number to a company.",
        graphql_type=PhonePayload,
    )
    async def add_company_phone(
        self, info: Info[Context, None], company_id: strawberry.ID, input: PhoneInput
    ) -> PhoneWritten:
        return PhoneWritten.of(await _add(info, PHONES, "company_id", company_id, input))

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Add a phone number to a contact.",
        graphql_type=PhonePayload,
    )
    async def add_contact_phone(
        self, info: Info[Context, None], contact_id: strawberry.ID, input: PhoneInput
    ) -> PhoneWritten:
        return PhoneWritten.of(await _add(info, PHONES, "contact_id", contact_id, input))

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Make this the primary number.",
        graphql_type=PhonePayload,
    )
    async def set_primary_phone(self, info: Info[Context, None], id: strawberry.ID) -> PhoneWritten:
        return PhoneWritten.of(await service.set_primary(info.context.scope, PHONES, parse_id(id)))

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Remove; if primary, the oldest other one becomes it.",
        graphql_type=PhoneRemovalPayload,
    )
    async def remove_phone(self, info: Info[Context, None], id: strawberry.ID) -> ValueRemoved:
        return ValueRemoved.of(await service.remove_value(info.context.scope, PHONES, parse_id(id)))
