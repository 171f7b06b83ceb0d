"""The Activity type."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from sqlmodel import col
from strawberry.types import Info

from app.services.activities.rules import ACTIVITY
from app.services.companies.rules import COMPANY
from app.services.contacts.rules import CONTACT
from app.services.deals.rules import DEAL
from app.services.owners.rules import USER
from models import Activity as ActivityRow
from models.enums import ActivityType
from resolvers.common.children import children_of
from resolvers.context import context_of
from resolvers.me.types import User

if TYPE_CHECKING:
    from resolvers.companies.types import Company
    from resolvers.contacts.types import Contact
    from resolvers.deals.types import Deal

CompanyRef = Annotated["Company", strawberry.lazy("resolvers.companies.types")]
ContactRef = Annotated["Contact", strawberry.lazy("resolvers.contacts.types")]
DealRef = Annotated["Deal", strawberry.lazy("resolvers.deals.types")]


_ACTIVITY_ORDER = (col(ActivityRow.created_at).desc(), col(ActivityRow.id))


async def _load(info: Info[Any, Any], entity: Any, row_id: Any) -> Any:
    return None if row_id is None else await context_of(info).loaders.by_id(entity).load(row_id)


async def _company(root: strawberry.Parent[Any], info: Info[Any, Any]) -> CompanyRef | None:
    return cast("Company | None", await _load(info, COMPANY, root.company_id))


async def _contact(root: strawberry.Parent[Any], info: Info[Any, Any]) -> ContactRef | None:
    return cast("Contact | None", await _load(info, CONTACT, root.contact_id))


async def _deal(root: strawberry.Parent[Any], info: Info[Any, Any]) -> DealRef | None:
    return cast("Deal | None", await _load(info, DEAL, root.deal_id))


async def _assignee(root: strawberry.Parent[Any], info: Info[Any, Any]) -> User | None:
    return cast(User | None, await _load(info, USER, root.assignee_id))


@strawberry.type(description="A note, call, e-mail, meeting, task or follow-up.")
class Activity:
    id: strawberry.ID
    type: ActivityType
    subject: str
    body: str | None
    due_at: datetime | None
    completed_at: datetime | None
    assignee_id: strawberry.ID | None
    assignee: User | None = strawberry.field(resolver=_assignee)
    contact_id: strawberry.ID | None
    contact: ContactRef | None = strawberry.field(resolver=_contact)
    company_id: strawberry.ID | None
    company: CompanyRef | None = strawberry.field(resolver=_company)
    deal_id: strawberry.ID | None
    deal: DealRef | None = strawberry.field(resolver=_deal)
    version: int
    created_at: datetime
    updated_at: datetime


async def activities_of(
    info: Info[Any, Any], parent_column: str, parent_id: Any, first: int
) -> list[Activity]:
    """ActivitiesByCompanyLoader / ...ByContact / ...ByDeal: newest first, `first` each."""
    rows = await children_of(info, ACTIVITY, parent_column, parent_id, first, _ACTIVITY_ORDER)
    return cast(list[Activity], rows)
