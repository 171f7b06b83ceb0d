"""The Deal type: what a deal board card and a deal page need."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from sqlmodel import col
from strawberry.types import Info

from app.services.companies import COMPANY
from app.services.contacts import CONTACT
from app.services.deals import DEAL
from app.services.owners import DEAL_OWNERS
from app.services.pipelines import PIPELINE, STAGE
from models import Deal as DealRow
from models.enums import DealStatus, LostReason
from resolvers.activities.types import activities_of
from resolvers.common.children import NESTED_DEFAULT, First, children_of
from resolvers.common.enums import OrderDirection
from resolvers.common.pagination import Connection
from resolvers.context import context_of
from resolvers.events.types import CrmEventType, history_of
from resolvers.lexware.vouchers import DealVoucherLink, vouchers_of_deal
from resolvers.owners.types import Owner, owners_of
from resolvers.pipelines.types import Pipeline, Stage

if TYPE_CHECKING:
    from resolvers.activities.types import Activity
    from resolvers.companies.types import Company
    from resolvers.contacts.types import Contact

CompanyRef = Annotated["Company", strawberry.lazy("resolvers.companies.types")]
ContactRef = Annotated["Contact", strawberry.lazy("resolvers.contacts.types")]


ActivityRef = Annotated["Activity", strawberry.lazy("resolvers.activities.types")]


_DEAL_ORDER = (col(DealRow.created_at).desc(), col(DealRow.id))


async def _load(info: Info[Any, Any], entity: Any, row_id: Any) -> Any:
    return None if row_id is None else await context_of(info).loaders.by_id(entity).load(row_id)


async def _pipeline(root: strawberry.Parent[Any], info: Info[Any, Any]) -> Pipeline:
    return cast(Pipeline, await _load(info, PIPELINE, root.pipeline_id))


async def _stage(root: strawberry.Parent[Any], info: Info[Any, Any]) -> Stage:
    return cast(Stage, await _load(info, STAGE, root.stage_id))


async def _company(root: strawberry.Parent[Any], info: Info[Any, Any]) -> CompanyRef | None:
    return cast("Company | None", await _load(info, COMPANY, root.company_id))


async def _contact(root: strawberry.Parent[Any], info: Info[Any, Any]) -> ContactRef | None:
    return cast("Contact | None", await _load(info, CONTACT, root.contact_id))


async def _owners(
    root: strawberry.Parent[Any], info: Info[Any, Any], first: First = NESTED_DEFAULT
) -> list[Owner]:
    return await owners_of(info, DEAL_OWNERS, root.id, first)


async def _activities(
    root: strawberry.Parent[Any],
    info: Info[Any, Any],
    first: First = NESTED_DEFAULT,
) -> list[ActivityRef]:
    return await activities_of(info, "deal_id", root.id, first)


async def _history(
    root: strawberry.Parent[Any],
    info: Info[Any, Any],
    first: int | None = None,
    after: str | None = None,
    direction: OrderDirection = OrderDirection.DESC,
) -> Connection[CrmEventType]:
    return await history_of(info, "deal", root.id, first, after, direction)


@strawberry.type(description="A sales opportunity moving through a pipeline.")
class Deal:
    id: strawberry.ID
    title: str
    value: Decimal
    currency: str = strawberry.field(description="ISO 4217, e.g. EUR.")
    pipeline_id: strawberry.ID
    pipeline: Pipeline = strawberry.field(resolver=_pipeline)
    stage_id: strawberry.ID
    stage: Stage = strawberry.field(resolver=_stage)
    company_id: strawberry.ID | None
    company: CompanyRef | None = strawberry.field(resolver=_company)
    contact_id: strawberry.ID | None
    contact: ContactRef | None = strawberry.field(resolver=_contact)
    owners: list[Owner] = strawberry.field(resolver=_owners)
    activities: list[ActivityRef] = strawberry.field(
        resolver=_activities, description="Newest first (the full feed: activities(filter:))."
    )
    history: Connection[CrmEventType] = strawberry.field(
        resolver=_history, description="Every change of this deal (events), newest first."
    )
    lexware_vouchers: list[DealVoucherLink] = strawberry.field(
        resolver=vouchers_of_deal, description="Vouchers linked to the deal, newest first."
    )
    expected_close_date: date | None
    status: DealStatus
    lost_reason: LostReason | None
    lost_reason_text: str | None
    closed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


async def deals_of(
    info: Info[Any, Any], parent_column: str, parent_id: Any, first: int
) -> list[Deal]:
    """DealsByCompanyLoader / DealsByContactLoader: newest first, at most `first` each."""
    rows = await children_of(info, DEAL, parent_column, parent_id, first, _DEAL_ORDER)
    return cast(list[Deal], rows)
