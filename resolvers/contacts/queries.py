"""contact(id) and contacts(...)."""

from __future__ import annotations

from collections.abc import Awaitable
from functools import partial
from typing import Any, cast

import strawberry
from strawberry.types import Info

from app.services import contacts as service
from app.services.contacts import CONTACT
from app.services.pagination import Page, PageRequest
from app.tenancy import TenantScope
from resolvers.common.inputs import filter_id, parse_id
from resolvers.common.pagination import Connection, paged
from resolvers.common.relations import ROWS, row_by_id
from resolvers.contacts.inputs import ContactFilter, ContactOrder
from resolvers.contacts.types import Contact
from resolvers.context import context_of
from resolvers.permissions import CanRead


def _service_filter(value: ContactFilter | None) -> service.ContactFilter:
    if value is None:
        return service.ContactFilter()
    return service.ContactFilter(
        search=value.search,
        company_id=filter_id(value.company_id, "companyId"),
        statuses=tuple(value.status or ()),
        sources=tuple(value.source or ()),
        tag=value.tag,
        department=value.department,
        owner_id=filter_id(value.owner_id, "ownerId"),
    )


@strawberry.type
class ContactQueries:
    @strawberry.field(
        permission_classes=[CanRead], metadata=row_by_id(CONTACT), description="One contact by id."
    )
    async def contact(self, info: Info[Any, Any], id: strawberry.ID) -> Contact | None:
        return cast(Contact, await service.get_contact(context_of(info).scope, parse_id(id)))

    @strawberry.field(
        permission_classes=[CanRead], metadata=ROWS, description="Contacts, a page at a time."
    )
    async def contacts(
        self,
        info: Info[Any, Any],
        first: int | None = None,
        after: str | None = None,
        filter: ContactFilter | None = None,
        order_by: ContactOrder | None = None,
    ) -> Connection[Contact]:
        order = order_by or ContactOrder()
        query_filter = _service_filter(filter)

        def list_page(scope: TenantScope, request: PageRequest) -> Awaitable[Page[Any]]:
            return service.list_contacts(
                scope, service.ContactQuery(request, query_filter, order.field)
            )

        return await paged(
            info,
            first,
            after,
            order.direction,
            list_page,
            partial(service.count_contacts, query_filter=query_filter),
        )
