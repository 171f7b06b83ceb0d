"""trash(types, first, after): what can be restored, most recently trashed first."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.data.pagination import Page, PageRequest, clamp_first
from app.data.tenancy import TenantScope
from app.errors import BadUserInput
from app.services.trash import service
from app.services.trash.rules import TrashType as ServiceTrashType
from resolvers.common.described import PageAfter, PageFirst
from resolvers.common.enums import OrderDirection
from resolvers.common.pagination import Connection, PageArguments, paged
from resolvers.context import Context
from resolvers.permissions import CanRead
from resolvers.trash.types import TrashItem, trash_item


@strawberry.type
class TrashQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        description="Records in the trash (deleted, not purged yet; every role), most recently "
        "trashed first; `types` narrows to some kinds (default: all five). What is here can "
        "be restored until its purgeAt.",
        graphql_type=Connection[TrashItem],
    )
    async def trash(
        self,
        info: Info[Context, None],
        types: Annotated[
            list[ServiceTrashType] | None,
            strawberry.argument(
                description="Only these kinds; unset: all five. [] is BAD_USER_INPUT."
            ),
        ] = None,
        first: PageFirst = None,
        after: PageAfter = None,
    ) -> Connection[TrashItem]:
        kinds = list(ServiceTrashType) if types is None else list(types)
        if not kinds:
            raise BadUserInput.single("types", "must name at least one type (or be omitted)")
        retention = timedelta(days=info.context.settings.trash_retention_days)
        settings = info.context.settings
        size = clamp_first(
            first, default=settings.default_page_size, maximum=settings.max_page_size
        )

        async def list_page(scope: TenantScope, request: PageRequest) -> Page[TrashItem]:
            page = await service.trash_page(scope, kinds, size, after)
            items = [trash_item(row, retention) for row in page.rows]
            return Page(items, page.cursors, page.has_next_page, page.has_previous_page)

        async def count(scope: TenantScope) -> int:
            return await service.count_trash(scope, kinds)

        arguments = PageArguments(first, after)
        return await paged(info, arguments, OrderDirection.DESC, list_page, count)
