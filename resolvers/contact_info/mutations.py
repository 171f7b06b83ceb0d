"""Add, remove and choose the primary e-mail address or phone number, one at a time."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.types import Info

from app.services.contact_info import service
from app.services.contact_info.rules import EMAILS, PHONES, ValueKind
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.contact_info.types import Email, EmailInput, Phone, PhoneInput
from resolvers.context import Context
from resolvers.permissions import CanWrite

WRITE: list[Any] = [CanWrite]


async def _add(info: Info[Context, None], kind: ValueKind, owner: str, id: str, data: Any) -> Any:
    owner_id = {owner: parse_id(id, f"{owner.split('_')[0]}Id")}
    return await service.add_value(info.context.scope, kind, owner_id, sent_fields(data))


@strawberry.type
class ContactInfoMutations:
    @strawberry.mutation(permission_classes=WRITE)
    async def add_company_email(
        self, info: Info[Context, None], company_id: strawberry.ID, input: EmailInput
    ) -> Email:
        return cast(Email, await _add(info, EMAILS, "company_id", company_id, input))

    @strawberry.mutation(permission_classes=WRITE)
    async def add_contact_email(
        self, info: Info[Context, None], contact_id: strawberry.ID, input: EmailInput
    ) -> Email:
        return cast(Email, await _add(info, EMAILS, "contact_id", contact_id, input))

    @strawberry.mutation(permission_classes=WRITE, description="Make this the primary address.")
    async def set_primary_email(self, info: Info[Context, None], id: strawberry.ID) -> Email:
        row = await service.set_primary(info.context.scope, EMAILS, parse_id(id))
        return cast(Email, row)

    @strawberry.mutation(
        permission_classes=WRITE, description="Remove; if primary, the oldest other one becomes it."
    )
    async def remove_email(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        removed = await service.remove_value(info.context.scope, EMAILS, parse_id(id))
        return strawberry.ID(str(removed))

    @strawberry.mutation(permission_classes=WRITE)
    async def add_company_phone(
        self, info: Info[Context, None], company_id: strawberry.ID, input: PhoneInput
    ) -> Phone:
        return cast(Phone, await _add(info, PHONES, "company_id", company_id, input))

    @strawberry.mutation(permission_classes=WRITE)
    async def add_contact_phone(
        self, info: Info[Context, None], contact_id: strawberry.ID, input: PhoneInput
    ) -> Phone:
        return cast(Phone, await _add(info, PHONES, "contact_id", contact_id, input))

    @strawberry.mutation(permission_classes=WRITE, description="Make this the primary number.")
    async def set_primary_phone(self, info: Info[Context, None], id: strawberry.ID) -> Phone:
        row = await service.set_primary(info.context.scope, PHONES, parse_id(id))
        return cast(Phone, row)

    @strawberry.mutation(
        permission_classes=WRITE, description="Remove; if primary, the oldest other one becomes it."
    )
    async def remove_phone(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        removed = await service.remove_value(info.context.scope, PHONES, parse_id(id))
        return strawberry.ID(str(removed))
