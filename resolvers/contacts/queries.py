"""contact(id) and contacts(...)."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.types import Info

from app.services import contacts as service
from resolvers.common.enums import OrderDirection
from resolvers.common.inputs import parse_id
from resolvers.common.pagination import Connection, connection_from_page, page_request
from resolvers.contacts.inputs import ContactFilter, ContactOrder
from resolvers.contacts.types import Contact
from resolvers.context import context_of
from resolvers.permissions import CanRead


def _service_filter(value: ContactFilter | None) -> service.ContactFilter:
    if value is None:
        return service.ContactFilter()
    return service.ContactFilter(
        search=value.search,
        company_id=parse_id(value.company_id, "filter.companyId") if value.company_id else None,
        statuses=tuple(value.status or ()),
        sources=tuple(value.source or ()),
        tag=value.tag,
        department=value.department,
        owner_id=parse_id(value.owner_id, "filter.ownerId") if value.owner_id else None,
    )


@strawberry.type
class ContactQueries:
    @strawberry.field(permission_classes=[CanRead], description="One contact by id.")
    async def contact(self, info: Info[Any, Any], id: strawberry.ID) -> Contact | None:
        return cast(Contact, await service.get_contact(context_of(info).scope, parse_id(id)))

    @strawberry.field(permission_classes=[CanRead], description="Contacts, a page at a time.")
    async def contacts(
        self,
        info: Info[Any, Any],
        first: int | None = None,
        after: str | None = None,
        filter: ContactFilter | None = None,
        order_by: ContactOrder | None = None,
    ) -> Connection[Contact]:
        context = context_of(info)
        order = order_by or ContactOrder()
        request = page_request(
            context.settings, first, after, order.direction is OrderDirection.DESC
        )
        query_filter = _service_filter(filter)
        page = await service.list_contacts(
            context.scope, service.ContactQuery(request, query_filter, order.field)
        )

        async def count() -> int:
            return await service.count_contacts(context.scope, query_filter)

        return connection_from_page(page, count, after=after)
