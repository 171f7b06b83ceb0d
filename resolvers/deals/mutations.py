"""Deal writes, the board move, and deal owners."""

from __future__ import annotations

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from app.services.deals import service
from app.services.deals.rows import DealRow
from app.services.deals.rules import DEAL
from app.services.owners.rules import DEAL_OWNERS
from models.enums import LostReason, OwnerRole
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.common.owners import OWNED, add, remove
from resolvers.context import Context
from resolvers.deals.inputs import CreateDealInput, UpdateDealInput
from resolvers.deals.types import Deal
from resolvers.permissions import CanWrite

WRITE: list[type[BasePermission]] = [CanWrite]


@strawberry.type
class DealMutations:
    @strawberry.mutation(permission_classes=WRITE, graphql_type=Deal)
    async def create_deal(self, info: Info[Context, None], input: CreateDealInput) -> DealRow:
        return await service.create_deal(info.context.scope, sent_fields(input))

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Change the fields sent. With expectedVersion, a stale edit is a CONFLICT.",
        graphql_type=Deal,
    )
    async def update_deal(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        input: UpdateDealInput,
        expected_version: int | None = None,
    ) -> DealRow:
        return await service.update_deal(
            info.context.scope, parse_id(id), sent_fields(input), expected_version
        )

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Drag and drop on a board. A LOST stage needs lostReason (and "
        "lostReasonText for OTHER).",
        graphql_type=Deal,
    )
    async def move_deal_to_stage(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        stage_id: strawberry.ID,
        lost_reason: LostReason | None = None,
        lost_reason_text: str | None = None,
    ) -> DealRow:
        lost = {"lost_reason": lost_reason, "lost_reason_text": lost_reason_text}
        lost = {k: v for k, v in lost.items() if v is not None}
        scope = info.context.scope
        return await service.move_deal_to_stage(
            scope, parse_id(id), parse_id(stage_id, "stageId"), lost
        )

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Move a deal to the trash (restoreDeal brings it back, purgeDeal or the "
        "retention deletes it for good). Its activities stay linked and read the link as null "
        "while it is trashed.",
    )
    async def delete_deal(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        deleted = await service.delete_deal(info.context.scope, parse_id(id))
        return strawberry.ID(str(deleted))

    @strawberry.mutation(
        permission_classes=WRITE,
        description=f"Add an owner, or change the role of an existing one. {OWNED}",
        graphql_type=Deal,
    )
    async def add_deal_owner(
        self,
        info: Info[Context, None],
        deal_id: strawberry.ID,
        user_id: strawberry.ID,
        role: OwnerRole = OwnerRole.OWNER,
    ) -> DealRow:
        return await add(info, DEAL_OWNERS, DEAL, deal_id, user_id, role, "dealId")

    @strawberry.mutation(
        permission_classes=WRITE, description=f"Remove an owner. {OWNED}", graphql_type=Deal
    )
    async def remove_deal_owner(
        self, info: Info[Context, None], deal_id: strawberry.ID, user_id: strawberry.ID
    ) -> DealRow:
        return await remove(info, DEAL_OWNERS, DEAL, deal_id, user_id, "dealId")
