"""Deal writes, the board move, and deal owners."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from app.services.deals import service
from app.services.deals.rows import DealRow
from app.services.deals.rules import DEAL
from app.services.owners.rules import DEAL_OWNERS
from models.enums import LostReason, OwnerRole
from resolvers.common.described import ExpectedVersion
from resolvers.common.inputs import parse_id, sent_fields
from resolvers.common.owners import (
    OwnerRoleArgument,
    OwnerUserId,
    RemovedUserId,
    add,
    adding,
    remove,
    removing,
)
from resolvers.context import Context
from resolvers.deals.inputs import CreateDealInput, UpdateDealInput
from resolvers.deals.types import Deal
from resolvers.permissions import CanWrite

WRITE: list[type[BasePermission]] = [CanWrite]

DealId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="The deal's id; unknown, trashed or another tenant's: NOT_FOUND."
    ),
]


@strawberry.type
class DealMutations:
    @strawberry.mutation(
        permission_classes=WRITE,
        description="Create a deal (member, admin). Placed by the stage rules: a WON/LOST "
        "stage sets the status, LOST needs a lostReason. Invalid fields are BAD_USER_INPUT "
        "naming them; an unknown pipeline, company, contact or user is NOT_FOUND. Event "
        "crm.deal.created.",
        graphql_type=Deal,
    )
    async def create_deal(
        self,
        info: Info[Context, None],
        input: Annotated[
            CreateDealInput, strawberry.argument(description="The new deal's fields.")
        ],
    ) -> DealRow:
        return await service.create_deal(info.context.scope, sent_fields(input))

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Change the fields sent (member, admin); the stage, status and lost reason "
        "follow the deal rules. With expectedVersion, a stale edit is a CONFLICT. Events "
        "crm.deal.updated, and stage_changed, won, lost or reopened when it moved.",
        graphql_type=Deal,
    )
    async def update_deal(
        self,
        info: Info[Context, None],
        id: DealId,
        input: Annotated[
            UpdateDealInput,
            strawberry.argument(description="The fields to change; those not sent stay."),
        ],
        expected_version: ExpectedVersion = None,
    ) -> DealRow:
        return await service.update_deal(
            info.context.scope, parse_id(id), sent_fields(input), expected_version
        )

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Drag and drop on a board (member, admin): the stage decides the status. A "
        "LOST stage needs lostReason (and lostReasonText for OTHER); a WON or OPEN stage "
        "clears them (BAD_USER_INPUT if sent). Answers the deal with its new stage.",
        graphql_type=Deal,
    )
    async def move_deal_to_stage(
        self,
        info: Info[Context, None],
        id: DealId,
        stage_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The target stage, one of the deal's pipeline (else BAD_USER_INPUT)."
            ),
        ],
        lost_reason: Annotated[
            LostReason | None,
            strawberry.argument(description="Why it was lost: required for a LOST stage."),
        ] = None,
        lost_reason_text: Annotated[
            str | None,
            strawberry.argument(
                description="The reason in words (at most 500 characters): required for OTHER."
            ),
        ] = None,
    ) -> DealRow:
        lost = {"lost_reason": lost_reason, "lost_reason_text": lost_reason_text}
        lost = {k: v for k, v in lost.items() if v is not None}
        scope = info.context.scope
        return await service.move_deal_to_stage(
            scope, parse_id(id), parse_id(stage_id, "stageId"), lost
        )

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Move a deal to the trash (member, admin; restoreDeal brings it back, "
        "purgeDeal or the retention after TRASH_RETENTION_DAYS deletes it for good). Its "
        "activities stay linked and read the link as null while it is trashed. Answers its id.",
    )
    async def delete_deal(self, info: Info[Context, None], id: DealId) -> strawberry.ID:
        deleted = await service.delete_deal(info.context.scope, parse_id(id))
        return strawberry.ID(str(deleted))

    @strawberry.mutation(
        permission_classes=WRITE,
        description=adding("deal"),
        graphql_type=Deal,
    )
    async def add_deal_owner(
        self,
        info: Info[Context, None],
        deal_id: DealId,
        user_id: OwnerUserId,
        role: OwnerRoleArgument = OwnerRole.OWNER,
    ) -> DealRow:
        return await add(info, DEAL_OWNERS, DEAL, deal_id, user_id, role, "dealId")

    @strawberry.mutation(permission_classes=WRITE, description=removing("deal"), graphql_type=Deal)
    async def remove_deal_owner(
        self, info: Info[Context, None], deal_id: DealId, user_id: RemovedUserId
    ) -> DealRow:
        return await remove(info, DEAL_OWNERS, DEAL, deal_id, user_id, "dealId")
