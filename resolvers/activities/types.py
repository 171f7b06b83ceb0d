"""The Activity type."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from app.services.activities.queries import ActivityOrderField, activity_sort_key
from app.services.activities.rows import ActivityRow
from app.services.activities.rules import ACTIVITY
from app.services.companies.rows import CompanyRow
from app.services.companies.rules import COMPANY
from app.services.contacts.rows import ContactRow
from app.services.contacts.rules import CONTACT
from app.services.deals.rows import DealRow
from app.services.deals.rules import DEAL
from app.services.members.rows import UserRow
from app.services.owners.rules import USER
from models.enums import ActivityType
from resolvers.activities.inputs import ActivityOrder
from resolvers.common.children import link_id_field, related
from resolvers.common.nested import NestedList, nested_page
from resolvers.common.pagination import Connection, PageArguments
from resolvers.common.relations import ToOne, child_order, rows_field
from resolvers.context import Context
from resolvers.me.types import User

if TYPE_CHECKING:
    from resolvers.companies.types import Company
    from resolvers.contacts.types import Contact
    from resolvers.deals.types import Deal

CompanyRef = Annotated["Company", strawberry.lazy("resolvers.companies.types")]
ContactRef = Annotated["Contact", strawberry.lazy("resolvers.contacts.types")]
DealRef = Annotated["Deal", strawberry.lazy("resolvers.deals.types")]


COMPANY_OF = ToOne(COMPANY, "company_id")
CONTACT_OF = ToOne(CONTACT, "contact_id")
DEAL_OF = ToOne(DEAL, "deal_id")
ASSIGNEE_OF = ToOne(USER, "assignee_id")


async def _company(
    root: strawberry.Parent[ActivityRow], info: Info[Context, None]
) -> CompanyRow | None:
    return await related(info, COMPANY_OF, root)


async def _contact(
    root: strawberry.Parent[ActivityRow], info: Info[Context, None]
) -> ContactRow | None:
    return await related(info, CONTACT_OF, root)


async def _deal(root: strawberry.Parent[ActivityRow], info: Info[Context, None]) -> DealRow | None:
    return await related(info, DEAL_OF, root)


async def _assignee(
    root: strawberry.Parent[ActivityRow], info: Info[Context, None]
) -> UserRow | None:
    return await related(info, ASSIGNEE_OF, root)


@strawberry.type(description="A note, call, e-mail, meeting, task or follow-up.")
class Activity:
    id: strawberry.ID
    type: ActivityType
    subject: str
    body: str | None
    due_at: datetime | None
    completed_at: datetime | None
    assignee_id: strawberry.ID | None
    assignee: User | None = rows_field(_assignee)
    contact_id: strawberry.ID | None = link_id_field(CONTACT_OF)
    contact: ContactRef | None = rows_field(_contact)
    company_id: strawberry.ID | None = link_id_field(COMPANY_OF)
    company: CompanyRef | None = rows_field(_company)
    deal_id: strawberry.ID | None = link_id_field(DEAL_OF)
    deal: DealRef | None = rows_field(_deal)
    version: int
    created_at: datetime
    updated_at: datetime


ACTIVITY_NEWEST_FIRST = (ActivityOrderField.CREATED_AT, True)
# A record's activities (company, contact, deal): newest first unless `orderBy` says otherwise.
ACTIVITIES_OF = {
    parent: NestedList(ACTIVITY, parent, activity_sort_key, ACTIVITY_NEWEST_FIRST)
    for parent in ("company_id", "contact_id", "deal_id")
}
ActivityOrderArgument = Annotated[
    ActivityOrder | None,
    strawberry.argument(description="The order of the list; newest first without it."),
]


async def activities_page(
    info: Info[Context, None],
    parent_column: str,
    parent_id: uuid.UUID,
    arguments: PageArguments,
    order_by: ActivityOrder | None,
) -> Connection[ActivityRow]:
    """A record's activities, a page at a time (ActivitiesByCompany/-Contact/-Deal)."""
    spec = ACTIVITIES_OF[parent_column]
    return await nested_page(info, spec, parent_id, arguments, child_order(order_by))
