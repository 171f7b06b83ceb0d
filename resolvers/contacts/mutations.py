"""createContact, updateContact, deleteContact."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.services.contacts import service
from app.services.contacts.rows import ContactRow
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.contacts.inputs import CreateContactInput, UpdateContactInput
from resolvers.contacts.types import Contact
from resolvers.context import Context
from resolvers.permissions import CanWrite


@strawberry.type
class ContactMutations:
    @strawberry.mutation(permission_classes=[CanWrite], graphql_type=Contact)
    async def create_contact(
        self, info: Info[Context, None], input: CreateContactInput
    ) -> ContactRow:
        return await service.create_contact(info.context.scope, sent_fields(input))

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Change the fields sent. With expectedVersion, a stale edit is a CONFLICT.",
        graphql_type=Contact,
    )
    async def update_contact(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        input: UpdateContactInput,
        expected_version: int | None = None,
    ) -> ContactRow:
        return await service.update_contact(
            info.context.scope, parse_id(id), sent_fields(input), expected_version
        )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Move a contact to the trash (restoreContact brings it back, purgeContact "
        "or the retention deletes it for good). Its deals and activities stay linked and read "
        "the link as null while it is trashed.",
    )
    async def delete_contact(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        deleted = await service.delete_contact(info.context.scope, parse_id(id))
        return strawberry.ID(str(deleted))
