"""restoreX(id) (member, admin) and purgeX(id) (admin) of the five kinds of record the trash
holds; deleteX moves a record there (each domain's mutations)."""

from __future__ import annotations

from typing import Annotated, cast

import strawberry
from strawberry.types import Info

from app.services.activities.rows import ActivityRow
from app.services.companies.rows import CompanyRow
from app.services.contacts.rows import ContactRow
from app.services.contracts.rows import ContractRow
from app.services.deals.rows import DealRow
from app.services.trash import service
from app.services.trash.rules import TrashType
from resolvers.activities.types import Activity
from resolvers.common.inputs import parse_id
from resolvers.companies.types import Company
from resolvers.contacts.types import Contact
from resolvers.context import Context
from resolvers.contracts.types import Contract
from resolvers.deals.types import Deal
from resolvers.permissions import CanWrite, IsAdmin

_RESTORE = (
    "Bring it back from the trash with its links as they were (member, admin; event "
    "crm.<entity>.restored). NOT_FOUND if it is not in the trash; CONFLICT (naming the other "
    "record) if it cannot come back as it was."
)
TrashedId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="The record's id, as `trash` lists it; a live, unknown or another tenant's "
        "id is NOT_FOUND (purge: a live one is NOT_IN_TRASH)."
    ),
]
_PURGE = (
    "Delete it from the trash for good (admin), with the rules a delete had: a company, "
    "contact or deal takes the activities nothing else links with it (events "
    "crm.<entity>.purged and those of what it unlinks or removes). A record not in the trash "
    "is NOT_IN_TRASH (delete it first). Answers the id."
)


@strawberry.type
class TrashMutations:
    @strawberry.mutation(permission_classes=[CanWrite], description=_RESTORE, graphql_type=Company)
    async def restore_company(self, info: Info[Context, None], id: TrashedId) -> CompanyRow:
        return cast(
            CompanyRow, await service.restore(info.context.scope, TrashType.COMPANY, parse_id(id))
        )

    @strawberry.mutation(permission_classes=[IsAdmin], description=_PURGE)
    async def purge_company(self, info: Info[Context, None], id: TrashedId) -> strawberry.ID:
        purged = await service.purge(info.context.scope, TrashType.COMPANY, parse_id(id))
        return strawberry.ID(str(purged))

    @strawberry.mutation(permission_classes=[CanWrite], description=_RESTORE, graphql_type=Contact)
    async def restore_contact(self, info: Info[Context, None], id: TrashedId) -> ContactRow:
        return cast(
            ContactRow, await service.restore(info.context.scope, TrashType.CONTACT, parse_id(id))
        )

    @strawberry.mutation(permission_classes=[IsAdmin], description=_PURGE)
    async def purge_contact(self, info: Info[Context, None], id: TrashedId) -> strawberry.ID:
        purged = await service.purge(info.context.scope, TrashType.CONTACT, parse_id(id))
        return strawberry.ID(str(purged))

    @strawberry.mutation(permission_classes=[CanWrite], description=_RESTORE, graphql_type=Deal)
    async def restore_deal(self, info: Info[Context, None], id: TrashedId) -> DealRow:
        return cast(
            DealRow, await service.restore(info.context.scope, TrashType.DEAL, parse_id(id))
        )

    @strawberry.mutation(permission_classes=[IsAdmin], description=_PURGE)
    async def purge_deal(self, info: Info[Context, None], id: TrashedId) -> strawberry.ID:
        purged = await service.purge(info.context.scope, TrashType.DEAL, parse_id(id))
        return strawberry.ID(str(purged))

    @strawberry.mutation(permission_classes=[CanWrite], description=_RESTORE, graphql_type=Activity)
    async def restore_activity(self, info: Info[Context, None], id: TrashedId) -> ActivityRow:
        return cast(
            ActivityRow, await service.restore(info.context.scope, TrashType.ACTIVITY, parse_id(id))
        )

    @strawberry.mutation(permission_classes=[IsAdmin], description=_PURGE)
    async def purge_activity(self, info: Info[Context, None], id: TrashedId) -> strawberry.ID:
        purged = await service.purge(info.context.scope, TrashType.ACTIVITY, parse_id(id))
        return strawberry.ID(str(purged))

    @strawberry.mutation(permission_classes=[CanWrite], description=_RESTORE, graphql_type=Contract)
    async def restore_contract(self, info: Info[Context, None], id: TrashedId) -> ContractRow:
        return cast(
            ContractRow, await service.restore(info.context.scope, TrashType.CONTRACT, parse_id(id))
        )

    @strawberry.mutation(permission_classes=[IsAdmin], description=_PURGE)
    async def purge_contract(self, info: Info[Context, None], id: TrashedId) -> strawberry.ID:
        purged = await service.purge(info.context.scope, TrashType.CONTRACT, parse_id(id))
        return strawberry.ID(str(purged))
