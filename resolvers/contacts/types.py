"""The Contact type: plain attributes from the row, relations through loaders."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from app.services.activities.rows import ActivityRow
from app.services.companies.rows import CompanyRow
from app.services.companies.rules import COMPANY
from app.services.contact_info.rows import EmailRow, PhoneRow
from app.services.contacts.rows import ContactRow
from app.services.deals.rows import DealRow
from app.services.duplicates.rules import DuplicateKind
from app.services.owners.rows import OwnerRow
from app.services.owners.rules import CONTACT_OWNERS
from app.services.rollups.queries import CONTACT_ROLLUPS, Rollup
from app.services.rollups.rows import MoneyAmount
from models.enums import ContactSource, EntityStatus
from resolvers.activities.types import (
    ACTIVITIES_OF,
    ActivityOrderArgument,
    activities_page,
)
from resolvers.common import shared_descriptions as texts
from resolvers.common.children import NESTED_DEFAULT, First, link_id_field, related
from resolvers.common.nested import (
    NESTED_PAGE_SIZE,
    After,
    Before,
    Last,
    NestedFirst,
    nested_connection,
)
from resolvers.common.pagination import Connection, PageArguments
from resolvers.common.relations import ToOne, relation_field, rows_field
from resolvers.common.rollups import (
    LAST_ACTIVITY_AT,
    NEXT_ACTIVITY_DUE_AT,
    OPEN_DEAL_COUNT,
    OPEN_DEAL_VALUE,
    rollup_field,
    rollups_of,
)
from resolvers.contact_info.loaders import emails_of, emails_relation, phones_of, phones_relation
from resolvers.contact_info.types import Email, Phone
from resolvers.context import Context
from resolvers.deals.types import DEALS_OF, DealOrderArgument, deals_page
from resolvers.duplicates.loaders import DuplicateCandidateRef, possible_duplicates_field
from resolvers.lexware.vouchers import LexwareVoucher, vouchers_of_record
from resolvers.merges.loaders import contact_merged_from, merged_into
from resolvers.nodes.types import Node
from resolvers.owners.types import Owner, OwnerOrderBy, owners_of, owners_relation
from resolvers.pipelines.types import Money

if TYPE_CHECKING:
    from resolvers.activities.types import Activity
    from resolvers.companies.types import Company
    from resolvers.deals.types import Deal

CompanyRef = Annotated["Company", strawberry.lazy("resolvers.companies.types")]
DealRef = Annotated["Deal", strawberry.lazy("resolvers.deals.types")]


ActivityRef = Annotated["Activity", strawberry.lazy("resolvers.activities.types")]


COMPANY_OF = ToOne(COMPANY, "company_id")


async def _company(
    root: strawberry.Parent[ContactRow], info: Info[Context, None]
) -> CompanyRow | None:
    return await related(info, COMPANY_OF, root)


async def _emails(root: strawberry.Parent[ContactRow], info: Info[Context, None]) -> list[EmailRow]:
    return await emails_of(info, "contact_id", root)


async def _phones(root: strawberry.Parent[ContactRow], info: Info[Context, None]) -> list[PhoneRow]:
    return await phones_of(info, "contact_id", root)


async def _owners(
    root: strawberry.Parent[ContactRow],
    info: Info[Context, None],
    first: First = NESTED_DEFAULT,
    order_by: OwnerOrderBy = None,
) -> list[OwnerRow]:
    return await owners_of(info, CONTACT_OWNERS, root, first, order_by)


async def _deals(
    root: strawberry.Parent[ContactRow],
    info: Info[Context, None],
    first: NestedFirst = NESTED_PAGE_SIZE,
    after: After = None,
    last: Last = None,
    before: Before = None,
    order_by: DealOrderArgument = None,
) -> Connection[DealRow]:
    arguments = PageArguments(first, after, last, before)
    return await deals_page(info, "contact_id", root.id, arguments, order_by)


async def _activities(
    root: strawberry.Parent[ContactRow],
    info: Info[Context, None],
    first: NestedFirst = NESTED_PAGE_SIZE,
    after: After = None,
    last: Last = None,
    before: Before = None,
    order_by: ActivityOrderArgument = None,
) -> Connection[ActivityRow]:
    arguments = PageArguments(first, after, last, before)
    return await activities_page(info, "contact_id", root.id, arguments, order_by)


async def _last_activity_at(
    root: strawberry.Parent[ContactRow], info: Info[Context, None]
) -> datetime | None:
    return (await rollups_of(info, CONTACT_ROLLUPS, root.id)).last_activity_at


async def _next_activity_due_at(
    root: strawberry.Parent[ContactRow], info: Info[Context, None]
) -> datetime | None:
    return (await rollups_of(info, CONTACT_ROLLUPS, root.id)).next_activity_due_at


async def _open_deal_count(root: strawberry.Parent[ContactRow], info: Info[Context, None]) -> int:
    return (await rollups_of(info, CONTACT_ROLLUPS, root.id)).open_deal_count


async def _open_deal_value(
    root: strawberry.Parent[ContactRow], info: Info[Context, None]
) -> list[MoneyAmount]:
    return (await rollups_of(info, CONTACT_ROLLUPS, root.id)).open_deal_value


@strawberry.type(
    description="A person (Ansprechpartner) at a company, or on their own: name, role, ways to "
    "reach them, deals and activities. Personal data: exportPersonalData and eraseContact "
    "cover it. Every role reads it; member and admin write it."
)
class Contact(Node):
    id: strawberry.ID = strawberry.field(description=texts.ID)
    salutation: str | None = strawberry.field(
        description="Salutation as used in letters, e.g. Herr, Frau; null: none."
    )
    title: str | None = strawberry.field(
        description="Academic title, e.g. Dr. or Prof. Dr.; null: none."
    )
    first_name: str | None = strawberry.field(description="First name; null: not known.")
    last_name: str = strawberry.field(
        description="Last name (or the whole name when only one is known); always set."
    )
    position: str | None = strawberry.field(
        description="Job title, e.g. Einkaufsleiter; null: not known."
    )
    department: str | None = strawberry.field(
        description="Department, e.g. Einkauf; null: not known."
    )
    company_id: strawberry.ID | None = link_id_field(
        COMPANY_OF, "The id of the company they work at; null: none, or the company is trashed."
    )
    company: CompanyRef | None = relation_field(
        COMPANY_OF, _company, "The company they work at; null: none, or it is trashed."
    )
    emails: list[Email] = relation_field(
        emails_relation("contact_id"),
        _emails,
        "Their e-mail addresses, the primary first; at most 20.",
    )
    phones: list[Phone] = relation_field(
        phones_relation("contact_id"),
        _phones,
        "Their phone numbers, the primary first; at most 20.",
    )
    owners: list[Owner] = relation_field(
        owners_relation(CONTACT_OWNERS),
        _owners,
        "The users responsible for, working with or watching this contact: OWNER first, then "
        "by when they were added (or in `orderBy`).",
    )
    activities: Connection[ActivityRef] = nested_connection(
        ACTIVITIES_OF["contact_id"],
        _activities,
        "The activities with this contact, newest first (all activities: activities(filter:)).",
    )
    deals: Connection[DealRef] = nested_connection(
        DEALS_OF["contact_id"], _deals, "The deals with this contact, newest first."
    )
    status: EntityStatus = strawberry.field(description=texts.STATUS)
    linkedin_url: str | None = strawberry.field(
        description="LinkedIn profile, e.g. https://www.linkedin.com/in/anna-schmidt; null: none."
    )
    birthday: date | None = strawberry.field(description="Date of birth; null: not known.")
    source: ContactSource | None = strawberry.field(
        description="How the team came to know them; null: not recorded."
    )
    tags: list[str] = strawberry.field(description=texts.TAGS)
    notes: str | None = strawberry.field(description=texts.NOTES)
    lexware_contact_id: strawberry.ID | None = strawberry.field(
        description=texts.LEXWARE_CONTACT_ID
    )
    lexware_synced_at: datetime | None = strawberry.field(description=texts.LEXWARE_SYNCED_AT)
    lexware_vouchers: Connection[LexwareVoucher] = rows_field(
        vouchers_of_record,
        "Vouchers of the linked Lexware contact (cached), newest first (undated last); "
        "empty while the contact is not linked to Lexware.",
    )
    version: int = strawberry.field(description=texts.VERSION)
    created_at: datetime = strawberry.field(description=texts.CREATED_AT)
    updated_at: datetime = strawberry.field(description=texts.UPDATED_AT)
    # Roll-ups (app/services/rollups/queries.py)
    last_activity_at: datetime | None = rollup_field(
        Rollup(CONTACT_ROLLUPS, "last_activity_at"), _last_activity_at, LAST_ACTIVITY_AT
    )
    next_activity_due_at: datetime | None = rollup_field(
        Rollup(CONTACT_ROLLUPS, "next_activity_due_at"), _next_activity_due_at, NEXT_ACTIVITY_DUE_AT
    )
    open_deal_count: int = rollup_field(
        Rollup(CONTACT_ROLLUPS, "open_deal_count"), _open_deal_count, OPEN_DEAL_COUNT
    )
    open_deal_value: list[Money] = rollup_field(
        Rollup(CONTACT_ROLLUPS, "open_deal_value"), _open_deal_value, OPEN_DEAL_VALUE
    )
    # Merges (app/services/merges)
    merged_from: list[strawberry.ID] = contact_merged_from()
    merged_into: strawberry.ID | None = merged_into()
    # Duplicates (app/services/duplicates/): computed when asked for, priced in the query cost
    possible_duplicates: list[DuplicateCandidateRef] = possible_duplicates_field(
        DuplicateKind.CONTACT
    )
