"""Activity writes, complete and reopen."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from app.services.activities import service
from app.services.activities.rows import ActivityRow
from resolvers.activities.inputs import CreateActivityInput, UpdateActivityInput
from resolvers.activities.types import Activity
from resolvers.common.described import ExpectedVersion
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.common.shared_descriptions import WriteId
from resolvers.context import Context
from resolvers.permissions import CanWrite

WRITE: list[type[BasePermission]] = [CanWrite]


@strawberry.type
class ActivityMutations:
    @strawberry.mutation(
        permission_classes=WRITE,
        description="Log or plan an activity (member, admin). Invalid fields, or neither contact "
        "nor company: BAD_USER_INPUT; an unknown or trashed contact, company or deal, or an "
        "unknown assignee: NOT_FOUND. Emits crm.activity.created.",
        graphql_type=Activity,
    )
    async def create_activity(
        self,
        info: Info[Context, None],
        input: Annotated[CreateActivityInput, strawberry.argument(description="The new activity.")],
    ) -> ActivityRow:
        scope = info.context.scope
        return await service.create_activity(scope, sent_fields(input))

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Change the fields sent (member, admin). With expectedVersion, a stale edit "
        "is a CONFLICT; invalid fields: BAD_USER_INPUT. Emits crm.activity.updated.",
        graphql_type=Activity,
    )
    async def update_activity(
        self,
        info: Info[Context, None],
        id: WriteId,
        input: Annotated[
            UpdateActivityInput, strawberry.argument(description="The fields to change.")
        ],
        expected_version: ExpectedVersion = None,
    ) -> ActivityRow:
        return await service.update_activity(
            info.context.scope, parse_id(id), sent_fields(input), expected_version
        )

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Mark done (member, admin): completedAt becomes now; an activity done "
        "already keeps its first completedAt. Emits crm.activity.completed.",
        graphql_type=Activity,
    )
    async def complete_activity(self, info: Info[Context, None], id: WriteId) -> ActivityRow:
        return await service.set_completed(info.context.scope, parse_id(id), completed=True)

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Mark not done again (member, admin): completedAt becomes null.",
        graphql_type=Activity,
    )
    async def reopen_activity(self, info: Info[Context, None], id: WriteId) -> ActivityRow:
        return await service.set_completed(info.context.scope, parse_id(id), completed=False)

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Member, admin: move an activity to the trash (restoreActivity brings it "
        "back). Returns its id.",
    )
    async def delete_activity(self, info: Info[Context, None], id: WriteId) -> strawberry.ID:
        deleted = await service.delete_activity(info.context.scope, parse_id(id))
        return strawberry.ID(str(deleted))
