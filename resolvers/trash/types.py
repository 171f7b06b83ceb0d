"""The trash list's types: what was trashed (a union of the five kinds of record), when, by
whom, and when the retention purges it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.services.members.rows import UserRow
from app.services.owners.rules import USER
from app.services.trash.rules import TrashType as ServiceTrashType
from app.services.trash.service import TrashedRecord
from resolvers.activities.types import Activity
from resolvers.common.described import described_enum
from resolvers.companies.types import Company
from resolvers.contacts.types import Contact
from resolvers.context import Context
from resolvers.contracts.types import Contract
from resolvers.deals.types import Deal
from resolvers.me.types import User

described_enum(
    ServiceTrashType,
    "A kind of record the trash holds: what deleteX moves there.",
    {
        "COMPANY": "A company (its contracts and relationships are hidden with it).",
        "CONTACT": "A contact person.",
        "DEAL": "A deal.",
        "ACTIVITY": "An activity (note, call, meeting, task, ...).",
        "CONTRACT": "A contract.",
    },
)

TrashedRecordUnion = Annotated[
    Company | Contact | Deal | Activity | Contract,
    strawberry.union("TrashedRecord", description="A record in the trash."),
]

_TYPES: dict[ServiceTrashType, type] = {
    ServiceTrashType.COMPANY: Company,
    ServiceTrashType.CONTACT: Contact,
    ServiceTrashType.DEAL: Deal,
    ServiceTrashType.ACTIVITY: Activity,
    ServiceTrashType.CONTRACT: Contract,
}


class RecordView:
    """A trashed record's row as its GraphQL type reads it: its attributes are the row's, and
    it carries the type it is (`strawberry.cast`; a row, a tuple, cannot), so the union knows
    which member it is."""

    def __init__(self, row: Any) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


@strawberry.type(description="A record in the trash: restore it (restoreX) or purge it (purgeX).")
class TrashItem:
    type: ServiceTrashType = strawberry.field(description="What kind of record it is.")
    deleted_at: datetime = strawberry.field(description="When it was moved to the trash.")
    purge_at: datetime = strawberry.field(
        description="When the retention purges it (deletedAt + TRASH_RETENTION_DAYS)."
    )
    trashed: strawberry.Private[TrashedRecord]

    @strawberry.field(description="The record, its fields readable as they were.")
    def record(self) -> TrashedRecordUnion:
        view: Any = strawberry.cast(_TYPES[self.trashed.type], RecordView(self.trashed.record))
        return view  # type: ignore[no-any-return]

    @strawberry.field(description="Who moved it to the trash (null: a user since removed).")
    async def deleted_by(self, info: Info[Context, None]) -> User | None:
        user_id = self.trashed.deleted_by
        if user_id is None:
            return None
        row: UserRow | None = await info.context.loaders.by_id(USER).load(user_id)
        return row  # type: ignore[return-value]


def trash_item(trashed: TrashedRecord, retention: timedelta) -> TrashItem:
    return TrashItem(
        type=trashed.type,
        deleted_at=trashed.deleted_at,
        purge_at=trashed.deleted_at + retention,
        trashed=trashed,
    )
