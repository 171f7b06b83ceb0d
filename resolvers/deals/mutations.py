"""Deal writes, the board move, and deal owners."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.types import Info

from app.services.deals import service
from app.services.owners.rules import DEAL_OWNERS
from models.enums import LostReason, OwnerRole
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.common.owners import add, remove
from resolvers.context import context_of
from resolvers.deals.inputs import CreateDealInput, UpdateDealInput
from resolvers.deals.types import Deal
from resolvers.owners.types import Owner
from resolvers.permissions import CanWrite

WRITE: list[Any] = [CanWrite]


@strawberry.type
class DealMutations:
    @strawberry.mutation(permission_classes=WRITE)
    async def create_deal(self, info: Info[Any, Any], input: CreateDealInput) -> Deal:
        return cast(Deal, await service.create_deal(context_of(info).scope, sent_fields(input)))

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Change the fields sent. With expectedVersion, a stale edit is a CONFLICT.",
    )
    async def update_deal(
        self,
        info: Info[Any, Any],
        id: strawberry.ID,
        input: UpdateDealInput,
        expected_version: int | None = None,
    ) -> Deal:
        row = await service.update_deal(
            context_of(info).scope, parse_id(id), sent_fields(input), expected_version
        )
        return cast(Deal, row)

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Drag and drop on a board. A LOST stage needs lostReason (and "
        "lostReasonText for OTHER).",
    )
    async def move_deal_to_stage(
        self,
        info: Info[Any, Any],
        id: strawberry.ID,
        stage_id: strawberry.ID,
        lost_reason: LostReason | None = None,
        lost_reason_text: str | None = None,
    ) -> Deal:
        lost = {"lost_reason": lost_reason, "lost_reason_text": lost_reason_text}
        lost = {k: v for k, v in lost.items() if v is not None}
        scope = context_of(info).scope
        row = await service.move_deal_to_stage(
            scope, parse_id(id), parse_id(stage_id, "stageId"), lost
        )
        return cast(Deal, row)

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Delete a deal; its activities that also belong to a company or a contact "
        "stay with those, the others are deleted with it (crm.activity.deleted each).",
    )
    async def delete_deal(self, info: Info[Any, Any], id: strawberry.ID) -> strawberry.ID:
        deleted = await service.delete_deal(context_of(info).scope, parse_id(id))
        return strawberry.ID(str(deleted))

    @strawberry.mutation(
        permission_classes=WRITE, description="Add an owner, or change the role of an existing one."
    )
    async def add_deal_owner(
        self,
        info: Info[Any, Any],
        deal_id: strawberry.ID,
        user_id: strawberry.ID,
        role: OwnerRole = OwnerRole.OWNER,
    ) -> Owner:
        return await add(info, DEAL_OWNERS, deal_id, user_id, role, "dealId")

    @strawberry.mutation(permission_classes=WRITE)
    async def remove_deal_owner(
        self, info: Info[Any, Any], deal_id: strawberry.ID, user_id: strawberry.ID
    ) -> bool:
        return await remove(info, DEAL_OWNERS, deal_id, user_id, "dealId")
