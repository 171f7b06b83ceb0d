"""eraseContact (admin)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.services.privacy import service
from app.services.privacy.service import Erasure
from resolvers.common.inputs import parse_id
from resolvers.context import Context
from resolvers.permissions import IsAdmin
from resolvers.privacy.types import ContactErasure


@strawberry.type
class PrivacyMutations:
    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Erase a person for good (GDPR art. 17, admin): the contact, its e-mails, "
        "phones and owners, its own activities; its values in shared activities, deals, "
        "events and stored responses become [erased]; the events stay (ids gapless), one "
        "crm.contact.erased is added. Lexware Office is not touched (see lexwareNotice). "
        "An erased or unknown id is NOT_FOUND (an erased one with extensions.erasedEventId). "
        "Member and viewer: FORBIDDEN.",
        graphql_type=ContactErasure,
    )
    async def erase_contact(
        self,
        info: Info[Context, None],
        contact_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The person's contact id (also one in the trash); another "
                "tenant's is NOT_FOUND."
            ),
        ],
    ) -> Erasure:
        return await service.erase_contact(info.context.scope, parse_id(contact_id, "contactId"))
