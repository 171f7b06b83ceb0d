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
from resolvers.common import shared_descriptions as texts
from resolvers.common.children import link_id_field, related
from resolvers.common.nested import NestedList, nested_page
from resolvers.common.pagination import Connection, PageArguments
from resolvers.common.relations import ToOne, child_order, rows_field
from resolvers.context import Context
from resolvers.me.types import User
from resolvers.nodes.types import Node

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


@strawberry.type(
    description="Something that happened or is to be done with a contact, company or deal: a "
    "note, call, e-mail, meeting, task or follow-up. Linked to a contact or a company (or "
    "both), optionally to a deal. Every role reads it; member and admin write it."
)
class Activity(Node):
    id: strawberry.ID = strawberry.field(description=texts.ID)
    type: ActivityType = strawberry.field(description="What kind of activity it is.")
    subject: str = strawberry.field(
        description="A one-line summary shown in feeds and lists; 1-200 characters."
    )
    body: str | None = strawberry.field(
        description="The full text (minutes, e-mail text, details), up to 20,000 characters; "
        "null: none."
    )
    due_at: datetime | None = strawberry.field(
        description="When it is due (a task, call or follow-up); null: no due date. Shortly "
        "before, an open activity emits a crm.activity.due_soon event (once per due date)."
    )
    completed_at: datetime | None = strawberry.field(
        description="When it was marked done (completeActivity); null: open."
    )
    assignee_id: strawberry.ID | None = strawberry.field(
        description="The id of the user who is to do it; null: nobody."
    )
    assignee: User | None = rows_field(_assignee, "The user who is to do it; null: nobody.")
    contact_id: strawberry.ID | None = link_id_field(
        CONTACT_OF, "The id of its contact; null: none, or the contact is trashed."
    )
    contact: ContactRef | None = rows_field(
        _contact, "The contact it concerns; null: none, or it is trashed."
    )
    company_id: strawberry.ID | None = link_id_field(
        COMPANY_OF, "The id of its company; null: none, or the company is trashed."
    )
    company: CompanyRef | None = rows_field(
        _company, "The company it concerns; null: none, or it is trashed."
    )
    deal_id: strawberry.ID | None = link_id_field(
        DEAL_OF, "The id of its deal; null: none, or the deal is trashed."
    )
    deal: DealRef | None = rows_field(_deal, "The deal it belongs to; null: none, or trashed.")
    version: int = strawberry.field(description=texts.VERSION)
    created_at: datetime = strawberry.field(description=texts.CREATED_AT)
    updated_at: datetime = strawberry.field(description=texts.UPDATED_AT)


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
