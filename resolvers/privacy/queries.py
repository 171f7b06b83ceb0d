"""exportPersonalData (admin)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.services.events import queries as events
from app.services.privacy import queries as service
from app.services.privacy.queries import PersonalData
from resolvers.common.inputs import parse_id
from resolvers.context import Context
from resolvers.permissions import IsAdmin
from resolvers.privacy.types import PersonalDataExport


@strawberry.type
class PrivacyQueries:
    @strawberry.field(
        permission_classes=[IsAdmin],
        description="Everything the CRM holds about a person, for a GDPR access or "
        "portability request (admin; member and viewer: FORBIDDEN). Reaches a trashed contact "
        "too. Its events in parts: `eventsAfter` continues a part.",
        graphql_type=PersonalDataExport,
    )
    async def export_personal_data(
        self,
        info: Info[Context, None],
        contact_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The person's contact id; unknown or another tenant's: NOT_FOUND."
            ),
        ],
        events_after: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="The previous part's `eventsNextAfter`: the events after it; "
                "unset: from the first. Not a whole number: BAD_USER_INPUT."
            ),
        ] = None,
    ) -> PersonalData:
        context = info.context
        return await service.export_personal_data(
            context.scope,
            parse_id(contact_id, "contactId"),
            events_after=events.parse_event_id(events_after, "eventsAfter"),
            limit=context.settings.personal_export_max_events,
        )
