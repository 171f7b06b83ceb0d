"""The Deal type: what a deal board card and a deal page need."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from app.events.message import CrmEventMessage
from app.services.activities.rows import ActivityRow
from app.services.companies.rows import CompanyRow
from app.services.companies.rules import COMPANY
from app.services.contacts.rows import ContactRow
from app.services.contacts.rules import CONTACT
from app.services.deals.queries import DealOrderField, deal_sort_key
from app.services.deals.rows import DealRow
from app.services.deals.rules import DEAL
from app.services.owners.rows import OwnerRow
from app.services.owners.rules import DEAL_OWNERS
from app.services.pipelines.rows import PipelineRow, StageRow
from app.services.pipelines.rules import PIPELINE, STAGE
from models.enums import DealStatus, LostReason
from resolvers.activities.types import ACTIVITIES_OF, ActivityOrderArgument, activities_page
from resolvers.common.children import NESTED_DEFAULT, First, link_id_field, related
from resolvers.common.enums import OrderDirection
from resolvers.common.nested import (
    NESTED_PAGE_SIZE,
    After,
    Before,
    Last,
    NestedFirst,
    NestedList,
    nested_connection,
    nested_page,
)
from resolvers.common.pagination import Connection, PageArguments
from resolvers.common.relations import ToOne, child_order, relation_field, rows_field
from resolvers.context import Context
from resolvers.deals.inputs import DealOrder
from resolvers.events.types import (
    CrmEventType,
    HistoryAfter,
    HistoryDirection,
    HistoryFirst,
    history_of,
)
from resolvers.lexware.vouchers import DealVoucherLink, vouchers_of_deal
from resolvers.nodes.types import Node
from resolvers.owners.types import Owner, OwnerOrder, owners_of, owners_relation
from resolvers.pipelines.types import Pipeline, Stage

if TYPE_CHECKING:
    from resolvers.activities.types import Activity
    from resolvers.companies.types import Company
    from resolvers.contacts.types import Contact

CompanyRef = Annotated["Company", strawberry.lazy("resolvers.companies.types")]
ContactRef = Annotated["Contact", strawberry.lazy("resolvers.contacts.types")]


ActivityRef = Annotated["Activity", strawberry.lazy("resolvers.activities.types")]


PIPELINE_OF = ToOne(PIPELINE, "pipeline_id")
STAGE_OF = ToOne(STAGE, "stage_id")
COMPANY_OF = ToOne(COMPANY, "company_id")
CONTACT_OF = ToOne(CONTACT, "contact_id")


async def _pipeline(
    root: strawberry.Parent[DealRow], info: Info[Context, None]
) -> PipelineRow | None:
    return await related(info, PIPELINE_OF, root)


async def _stage(root: strawberry.Parent[DealRow], info: Info[Context, None]) -> StageRow | None:
    return await related(info, STAGE_OF, root)


async def _company(
    root: strawberry.Parent[DealRow], info: Info[Context, None]
) -> CompanyRow | None:
    return await related(info, COMPANY_OF, root)


async def _contact(
    root: strawberry.Parent[DealRow], info: Info[Context, None]
) -> ContactRow | None:
    return await related(info, CONTACT_OF, root)


OwnerOrderArgument = Annotated[
    OwnerOrder | None,
    strawberry.argument(
        description="Sort order of the owners; unset: OWNER first, then by when they were added."
    ),
]


async def _owners(
    root: strawberry.Parent[DealRow],
    info: Info[Context, None],
    first: First = NESTED_DEFAULT,
    order_by: OwnerOrderArgument = None,
) -> list[OwnerRow]:
    return await owners_of(info, DEAL_OWNERS, root, first, order_by)


async def _activities(
    root: strawberry.Parent[DealRow],
    info: Info[Context, None],
    first: NestedFirst = NESTED_PAGE_SIZE,
    after: After = None,
    last: Last = None,
    before: Before = None,
    order_by: ActivityOrderArgument = None,
) -> Connection[ActivityRow]:
    arguments = PageArguments(first, after, last, before)
    return await activities_page(info, "deal_id", root.id, arguments, order_by)


async def _history(
    root: strawberry.Parent[DealRow],
    info: Info[Context, None],
    first: HistoryFirst = None,
    after: HistoryAfter = None,
    direction: HistoryDirection = OrderDirection.DESC,
) -> Connection[CrmEventMessage]:
    return await history_of(info, "deal", root.id, first, after, direction)


@strawberry.type(
    description="A sales opportunity (Verkaufschance): what is being sold to which company or "
    "contact, for how much, and where it stands on its pipeline's board. Readable by every "
    "role; member and admin write it."
)
class Deal(Node):
    id: strawberry.ID = strawberry.field(description="The deal's id (a UUID).")
    title: str = strawberry.field(
        description="What the deal is about, as shown on the board card; 1-200 characters."
    )
    value: Decimal = strawberry.field(
        description="What the deal is worth, in `currency`: 0 or more, at most 2 decimals and "
        "12 digits before the point; 0 when created without one. Pipeline summaries add it up "
        "per currency."
    )
    currency: str = strawberry.field(
        description="ISO 4217 code of `value`, upper case, e.g. EUR (the default) or CHF."
    )
    pipeline_id: strawberry.ID = strawberry.field(description="The pipeline the deal is on.")
    pipeline: Pipeline = relation_field(PIPELINE_OF, _pipeline, "The pipeline the deal is on.")
    stage_id: strawberry.ID = strawberry.field(
        description="The stage (board column) the deal is in; always a stage of its pipeline."
    )
    stage: Stage = relation_field(
        STAGE_OF, _stage, "The stage (board column) the deal is in; its kind matches `status`."
    )
    company_id: strawberry.ID | None = link_id_field(
        COMPANY_OF,
        "The customer company's id; null when the deal has none or the company is in the trash.",
    )
    company: CompanyRef | None = relation_field(
        COMPANY_OF,
        _company,
        "The customer company; null when the deal has none or the company is in the trash.",
    )
    contact_id: strawberry.ID | None = link_id_field(
        CONTACT_OF,
        "The contact person's id; null when the deal has none or the contact is in the trash.",
    )
    contact: ContactRef | None = relation_field(
        CONTACT_OF,
        _contact,
        "The contact person at the customer; null when the deal has none or the contact is in "
        "the trash.",
    )
    owners: list[Owner] = relation_field(
        owners_relation(DEAL_OWNERS),
        _owners,
        "The users responsible for the deal, with their role (OWNER, MEMBER, WATCHER).",
    )
    activities: Connection[ActivityRef] = nested_connection(
        ACTIVITIES_OF["deal_id"],
        _activities,
        "The activities about this deal, newest first (all activities: activities(filter:)).",
    )
    history: Connection[CrmEventType] = rows_field(
        _history, "Every change of this deal (events), newest first."
    )
    lexware_vouchers: Connection[DealVoucherLink] = rows_field(
        vouchers_of_deal,
        "Vouchers linked to the deal (linkVoucherToDeal), newest voucher first (undated last).",
    )
    expected_close_date: date | None = strawberry.field(
        description="When the team expects to win or lose the deal (a calendar day, "
        "YYYY-MM-DD); null: not planned."
    )
    status: DealStatus = strawberry.field(
        description="OPEN, WON or LOST: always the kind of its stage. Setting it moves the deal "
        "to a stage of that kind."
    )
    lost_reason: LostReason | None = strawberry.field(
        description="Why the deal was lost; set exactly when `status` is LOST."
    )
    lost_reason_text: str | None = strawberry.field(
        description="The reason in words (at most 500 characters); required for lostReason "
        "OTHER, null unless the deal is lost."
    )
    closed_at: datetime | None = strawberry.field(
        description="When the deal was won or lost; null while it is open (cleared on reopen)."
    )
    version: int = strawberry.field(
        description="Grows by one with every change: send it as `expectedVersion` to refuse "
        "an update based on an outdated read."
    )
    created_at: datetime = strawberry.field(description="When the deal was created.")
    updated_at: datetime = strawberry.field(description="When the deal was last changed.")


DEAL_NEWEST_FIRST = (DealOrderField.CREATED_AT, True)
# A company's or contact's deals: newest first unless `orderBy` says otherwise.
DEALS_OF = {
    parent: NestedList(DEAL, parent, deal_sort_key, DEAL_NEWEST_FIRST)
    for parent in ("company_id", "contact_id")
}
DealOrderArgument = Annotated[
    DealOrder | None,
    strawberry.argument(description="The order of the list; newest first without it."),
]


async def deals_page(
    info: Info[Context, None],
    parent_column: str,
    parent_id: uuid.UUID,
    arguments: PageArguments,
    order_by: DealOrder | None,
) -> Connection[DealRow]:
    """A company's or contact's deals, a page at a time (DealsByCompany/-Contact)."""
    spec = DEALS_OF[parent_column]
    return await nested_page(info, spec, parent_id, arguments, child_order(order_by))


@strawberry.type(
    description="A change of a deal on a pipeline's board, as dealChanged delivers it."
)
class DealChange:
    event: CrmEventMessage = strawberry.field(
        graphql_type=CrmEventType,
        description="The event that changed the card (crm.deal.updated, stage_changed, won, "
        "owner_added, deleted, merged, ...).",
    )
    deal_id: strawberry.ID = strawberry.field(description="The deal the change is about.")
    deal: DealRow | None = strawberry.field(
        description="The deal as it is now; null once it left the board (deleted or moved "
        "to another pipeline).",
        graphql_type=Deal | None,
    )
    on_board: bool = strawberry.field(
        description="Whether the card is on this pipeline's board now: false once the deal was "
        "deleted or moved to another pipeline (drop the card), true again when it is restored "
        "or moved back."
    )
