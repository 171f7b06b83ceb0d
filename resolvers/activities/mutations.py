"""Activity writes, complete and reopen."""

from __future__ import annotations

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from app.services.activities import service
from app.services.activities.rows import ActivityRow
from resolvers.activities.inputs import CreateActivityInput, UpdateActivityInput
from resolvers.activities.types import Activity
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.context import Context
from resolvers.permissions import CanWrite

WRITE: list[type[BasePermission]] = [CanWrite]


@strawberry.type
class ActivityMutations:
    @strawberry.mutation(permission_classes=WRITE, graphql_type=Activity)
    async def create_activity(
        self, info: Info[Context, None], input: CreateActivityInput
    ) -> ActivityRow:
        scope = info.context.scope
        return await service.create_activity(scope, sent_fields(input))

    @strawberry.mutation(permission_classes=WRITE, graphql_type=Activity)
    async def update_activity(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        input: UpdateActivityInput,
        expected_version: int | None = None,
    ) -> ActivityRow:
        return await service.update_activity(
            info.context.scope, parse_id(id), sent_fields(input), expected_version
        )

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Mark done (keeps the first time).",
        graphql_type=Activity,
    )
    async def complete_activity(self, info: Info[Context, None], id: strawberry.ID) -> ActivityRow:
        return await service.set_completed(info.context.scope, parse_id(id), completed=True)

    @strawberry.mutation(
        permission_classes=WRITE, description="Mark not done again.", graphql_type=Activity
    )
    async def reopen_activity(self, info: Info[Context, None], id: strawberry.ID) -> ActivityRow:
        return await service.set_completed(info.context.scope, parse_id(id), completed=False)

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Move an activity to the trash (restoreActivity brings it back).",
    )
    async def delete_activity(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        deleted = await service.delete_activity(info.context.scope, parse_id(id))
        return strawberry.ID(str(deleted))
