"""createContact, updateContact, deleteContact."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.services.contacts import service
from app.services.contacts.rows import ContactRow
from resolvers.common.described import ExpectedVersion
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.common.shared_descriptions import WriteId
from resolvers.contacts.inputs import CreateContactInput, UpdateContactInput
from resolvers.contacts.types import Contact
from resolvers.context import Context
from resolvers.permissions import CanWrite


@strawberry.type
class ContactMutations:
    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Create a contact (member, admin). Invalid fields: BAD_USER_INPUT, each "
        "problem with its field path; an unknown or trashed company, or an unknown owner: "
        "NOT_FOUND; with rejectDuplicates, a strong duplicate: CONFLICT. Emits "
        "crm.contact.created.",
        graphql_type=Contact,
    )
    async def create_contact(
        self,
        info: Info[Context, None],
        input: Annotated[CreateContactInput, strawberry.argument(description="The new contact.")],
    ) -> ContactRow:
        return await service.create_contact(info.context.scope, sent_fields(input))

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Change the fields sent (member, admin). With expectedVersion, a stale edit "
        "is a CONFLICT; invalid fields: BAD_USER_INPUT. Emits crm.contact.updated with what "
        "changed.",
        graphql_type=Contact,
    )
    async def update_contact(
        self,
        info: Info[Context, None],
        id: WriteId,
        input: Annotated[
            UpdateContactInput, strawberry.argument(description="The fields to change.")
        ],
        expected_version: ExpectedVersion = None,
    ) -> ContactRow:
        return await service.update_contact(
            info.context.scope, parse_id(id), sent_fields(input), expected_version
        )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Member, admin: move a contact to the trash (restoreContact brings it "
        "back, purgeContact or the retention deletes it for good). Its deals and activities "
        "stay linked and read the link as null while it is trashed. Returns its id.",
    )
    async def delete_contact(self, info: Info[Context, None], id: WriteId) -> strawberry.ID:
        deleted = await service.delete_contact(info.context.scope, parse_id(id))
        return strawberry.ID(str(deleted))
