"""Add, remove and choose the primary e-mail address or phone number, one at a time."""

from __future__ import annotations

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from app.services.contact_info import service
from app.services.contact_info.rows import EmailRow, PhoneRow
from app.services.contact_info.rules import EMAILS, PHONES, ValueKind, ValueRowT
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.contact_info.types import Email, EmailInput, Phone, PhoneInput
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
    @strawberry.mutation(permission_classes=WRITE, graphql_type=Email)
    async def add_company_email(
        self, info: Info[Context, None], company_id: strawberry.ID, input: EmailInput
    ) -> EmailRow:
        return await _add(info, EMAILS, "company_id", company_id, input)

    @strawberry.mutation(permission_classes=WRITE, graphql_type=Email)
    async def add_contact_email(
        self, info: Info[Context, None], contact_id: strawberry.ID, input: EmailInput
    ) -> EmailRow:
        return await _add(info, EMAILS, "contact_id", contact_id, input)

    @strawberry.mutation(
        permission_classes=WRITE, description="Make this the primary address.", graphql_type=Email
    )
    async def set_primary_email(self, info: Info[Context, None], id: strawberry.ID) -> EmailRow:
        return await service.set_primary(info.context.scope, EMAILS, parse_id(id))

    @strawberry.mutation(
        permission_classes=WRITE, description="Remove; if primary, the oldest other one becomes it."
    )
    async def remove_email(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        removed = await service.remove_value(info.context.scope, EMAILS, parse_id(id))
        return strawberry.ID(str(removed))

    @strawberry.mutation(permission_classes=WRITE, graphql_type=Phone)
    async def add_company_phone(
        self, info: Info[Context, None], company_id: strawberry.ID, input: PhoneInput
    ) -> PhoneRow:
        return await _add(info, PHONES, "company_id", company_id, input)

    @strawberry.mutation(permission_classes=WRITE, graphql_type=Phone)
    async def add_contact_phone(
        self, info: Info[Context, None], contact_id: strawberry.ID, input: PhoneInput
    ) -> PhoneRow:
        return await _add(info, PHONES, "contact_id", contact_id, input)

    @strawberry.mutation(
        permission_classes=WRITE, description="Make this the primary number.", graphql_type=Phone
    )
    async def set_primary_phone(self, info: Info[Context, None], id: strawberry.ID) -> PhoneRow:
        return await service.set_primary(info.context.scope, PHONES, parse_id(id))

    @strawberry.mutation(
        permission_classes=WRITE, description="Remove; if primary, the oldest other one becomes it."
    )
    async def remove_phone(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        removed = await service.remove_value(info.context.scope, PHONES, parse_id(id))
        return strawberry.ID(str(removed))
