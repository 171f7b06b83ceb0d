"""contact(id) and contacts(...)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.data.pagination import PageQuery, PageRequest
from app.services.contacts import queries
from app.services.contacts.rows import ContactRow
from app.services.contacts.rules import CONTACT
from app.services.merges.queries import get_following_merges
from resolvers.common.described import PageAfter, PageBefore, PageFirst, PageLast
from resolvers.common.filters import combinators, nested, quantified, register_input
from resolvers.common.inputs import filter_id, parse_id
from resolvers.common.pagination import Connection, PageArguments, paged_rows
from resolvers.common.relations import page_of, row_by_id
from resolvers.common.shared_descriptions import ReadId
from resolvers.contacts.inputs import ContactFilter, ContactOrder
from resolvers.contacts.types import Contact
from resolvers.context import Context
from resolvers.permissions import CanRead


def _service_filter(value: ContactFilter | None) -> queries.ContactFilter:
    if value is None:
        return queries.ContactFilter()
    return queries.ContactFilter(
        search=value.search,
        company_id=filter_id(value.company_id, "companyId"),
        statuses=tuple(value.status or ()),
        sources=tuple(value.source or ()),
        tag=value.tag,
        department=value.department,
        owner_id=filter_id(value.owner_id, "ownerId"),
        owned_by_me=value.owned_by_me,
        owners=quantified(value.owners, "owners"),
        company=nested(value.company, "company"),
        deals=quantified(value.deals, "deals"),
        activities=quantified(value.activities, "activities"),
        **combinators(value),
    )


register_input(ContactFilter, _service_filter)


@strawberry.type
class ContactQueries:
    @strawberry.field(
        permission_classes=[CanRead],
        metadata=row_by_id(CONTACT),
        description="One contact by id (every role). An id merged into another contact answers "
        "that one (its `id` then differs from the one asked for).",
        graphql_type=Contact | None,
    )
    async def contact(self, info: Info[Context, None], id: ReadId) -> ContactRow:
        # An id merged away answers its survivor (app/services/merges).
        return await get_following_merges(info.context.scope, CONTACT, "contact", parse_id(id))

    @strawberry.field(
        permission_classes=[CanRead],
        metadata=page_of(CONTACT),
        description="The tenant's contacts, a page at a time (every role), by name unless "
        "`orderBy` says otherwise; trashed ones are left out.",
        graphql_type=Connection[Contact],
    )
    async def contacts(
        self,
        info: Info[Context, None],
        first: PageFirst = None,
        after: PageAfter = None,
        last: PageLast = None,
        before: PageBefore = None,
        filter: Annotated[
            ContactFilter | None,
            strawberry.argument(description="Only the contacts that match; null: all."),
        ] = None,
        order_by: Annotated[
            ContactOrder | None,
            strawberry.argument(description="Sort order; null: by name."),
        ] = None,
    ) -> Connection[ContactRow]:
        order = order_by or ContactOrder()
        query_filter = _service_filter(filter)
        caller = info.context.scope.actor_id

        def page_query(request: PageRequest) -> PageQuery[ContactRow]:
            return queries.contacts_page(
                queries.ContactQuery(
                    request, query_filter, order.field, caller=caller, currency=order.currency
                )
            )

        count = partial(queries.count_contacts, query_filter=query_filter)
        return await paged_rows(
            info, PageArguments(first, after, last, before), order.direction, page_query, count
        )
