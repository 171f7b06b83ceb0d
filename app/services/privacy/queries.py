"""A person's data as the CRM holds it (GDPR art. 15 access, art. 20 portability): the
contact, its e-mails, phones and owners, its activities, the deals it is the contact of, its
Lexware link with the synced values and the cached vouchers of that Lexware contact, the
stored responses of idempotent requests that mention it, and the events about it (its own
and its activities'). All read in one transaction, so the parts agree with each other.

The events are the one part without a natural bound (a contact edited daily for years, a
script that touched it 100,000 times): at most `limit` of them per export, oldest first, and
the export says how many there are and where the next part starts (`eventsAfter`); nothing
is cut off without saying so.

Every statement passes `with_trashed=True`: a trashed contact is exported, with its trashed
activities and deals.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import col

from app.data.changes import camel_keys, jsonable
from app.data.records import Entity
from app.data.tenancy import TenantScope
from app.data.unit_of_work import Reading
from app.errors import NotFound
from app.events.message import CrmEventMessage
from app.services.activities.rows import ActivityRow
from app.services.activities.rules import ACTIVITY
from app.services.contact_info.rows import EmailRow, PhoneRow
from app.services.contact_info.rules import EMAILS, PHONES
from app.services.contacts.rows import ContactRow
from app.services.contacts.rules import CONTACT
from app.services.deals.rows import DealRow
from app.services.deals.rules import DEAL
from app.services.lexware.rows import VoucherRow
from app.services.lexware.vouchers import VOUCHER
from app.services.owners.rows import ContactOwnerRow
from app.services.owners.rules import CONTACT_OWNERS
from app.services.privacy.rules import like_patterns
from models import (
    Activity,
    Contact,
    CrmEvent,
    Deal,
    IdempotencyKey,
    LexwareVoucher,
    MergedRecord,
)

TRASH_COLUMNS = ("deleted_at", "deleted_by")


@dataclass(frozen=True)
class StoredResponse:
    """An idempotent request's stored response that holds the person's values."""

    operation: str | None
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class EventPart:
    """The events of one export: `events` oldest first; `next_after` set when more follow."""

    events: list[CrmEventMessage]
    total: int
    after: int | None
    next_after: int | None


@dataclass(frozen=True)
class PersonalData:
    contact: ContactRow
    emails: list[EmailRow]
    phones: list[PhoneRow]
    owners: list[ContactOwnerRow]
    activities: list[ActivityRow]
    deals: list[DealRow]
    vouchers: list[VoucherRow]
    lexware_synced_values: dict[str, Any] | None
    stored_responses: list[StoredResponse]
    events: EventPart
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def document(self) -> dict[str, Any]:
        """The whole export as one JSON document (art. 20: machine-readable)."""
        contact = _plain(self.contact)
        return {
            "format": "insight-crm personal data export, version 1",
            "generatedAt": self.generated_at.isoformat(),
            "contact": contact,
            "emails": [_plain(row) for row in self.emails],
            "phones": [_plain(row) for row in self.phones],
            "owners": [_plain(row) for row in self.owners],
            "tags": contact.get("tags", []),
            "company": {"id": contact.get("companyId")},
            "activities": [_plain(row) for row in self.activities],
            "deals": [_plain(row) for row in self.deals],
            "lexware": {
                "contactId": contact.get("lexwareContactId"),
                "contactVersion": contact.get("lexwareContactVersion"),
                "syncedAt": contact.get("lexwareSyncedAt"),
                "syncedValues": self.lexware_synced_values,
                "vouchers": [_plain(row) for row in self.vouchers],
            },
            "storedResponses": [jsonable(camel_keys(vars(r))) for r in self.stored_responses],
            "events": {
                "total": self.events.total,
                "included": len(self.events.events),
                "after": _id(self.events.after),
                "complete": self.events.next_after is None,
                "continueWithEventsAfter": _id(self.events.next_after),
                "items": [_event(event) for event in self.events.events],
            },
        }


def _id(seq: int | None) -> str | None:
    return None if seq is None else str(seq)


def _plain(row: Any) -> dict[str, Any]:
    return cast(dict[str, Any], camel_keys(jsonable(dict(row._mapping))))


def _event(event: CrmEventMessage) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "entity": event.entity,
        "entityId": str(event.entity_id),
        "actorId": None if event.actor_id is None else str(event.actor_id),
        "occurredAt": event.occurred_at.isoformat(),
        "changes": event.changes,
    }


async def export_personal_data(
    scope: TenantScope, contact_id: uuid.UUID, *, events_after: int | None, limit: int
) -> PersonalData:
    async with scope.reading() as reads:
        contact = await _contact(reads, contact_id)
        emails = await _rows_of(reads, EMAILS.entity, "contact_id", contact_id)
        phones = await _rows_of(reads, PHONES.entity, "contact_id", contact_id)
        owners = await _rows_of(reads, CONTACT_OWNERS.entity, "contact_id", contact_id)
        activities = await _rows_of(reads, ACTIVITY, "contact_id", contact_id)
        deals = await _rows_of(reads, DEAL, "contact_id", contact_id)
        return PersonalData(
            contact=cast(ContactRow, contact),
            emails=cast(list[EmailRow], emails),
            phones=cast(list[PhoneRow], phones),
            owners=cast(list[ContactOwnerRow], owners),
            activities=cast(list[ActivityRow], activities),
            deals=cast(list[DealRow], deals),
            vouchers=await _vouchers(reads, contact_id, contact.lexware_contact_id),
            lexware_synced_values=await _synced_values(reads, contact_id),
            stored_responses=await _stored_responses(reads, contact_id),
            events=await _events(reads, contact_id, events_after, limit),
        )


def _columns(entity: Entity[object]) -> list[Any]:
    """The record columns, and for a record that can be in the trash, whether it is (and
    since when, by whom): a trashed record is the person's data all the same."""
    trash = [entity.column(name) for name in TRASH_COLUMNS if name in entity.model.model_fields]
    return [*entity.columns, *trash]


async def _contact(reads: Reading, contact_id: uuid.UUID) -> Any:
    statement = sa.select(*_columns(CONTACT)).where(CONTACT.id == contact_id)
    row = (await reads.execute_rows(statement, with_trashed=True)).first()
    if row is None:
        raise NotFound("Contact")
    return row


async def _rows_of(
    reads: Reading, entity: Entity[object], link: str, contact_id: uuid.UUID
) -> list[Any]:
    statement = (
        sa.select(*_columns(entity))
        .where(entity.column(link) == contact_id)
        .order_by(entity.column("created_at"), entity.id)
    )
    return list(await reads.execute_rows(statement, with_trashed=True))


async def _vouchers(
    reads: Reading, contact_id: uuid.UUID, lexware_id: uuid.UUID | None
) -> list[VoucherRow]:
    """The cached vouchers of the person's Lexware contact (and any still pointing at it)."""
    linked = col(LexwareVoucher.contact_id) == contact_id
    if lexware_id is not None:
        linked = sa.or_(linked, col(LexwareVoucher.lexware_contact_id) == lexware_id)
    statement = sa.select(*VOUCHER.columns).where(linked).order_by(VOUCHER.id)
    return cast(list[VoucherRow], list(await reads.execute_rows(statement, with_trashed=True)))


async def _synced_values(reads: Reading, contact_id: uuid.UUID) -> dict[str, Any] | None:
    statement = sa.select(col(Contact.lexware_synced_values)).where(col(Contact.id) == contact_id)
    return cast(
        dict[str, Any] | None, (await reads.execute_rows(statement, with_trashed=True)).scalar_one()
    )


def mentioning(values: list[str]) -> sa.ColumnElement[bool]:
    """A stored response whose JSON text holds one of the values (the contact's id, at
    least: every response about it names it)."""
    text = sa.func.convert_from(col(IdempotencyKey.response_body), "UTF8")
    return sa.or_(*(text.ilike(pattern) for pattern in like_patterns(values)))


async def _stored_responses(reads: Reading, contact_id: uuid.UUID) -> list[StoredResponse]:
    statement = (
        sa.select(
            col(IdempotencyKey.operation),
            col(IdempotencyKey.created_at),
            col(IdempotencyKey.expires_at),
        )
        .where(col(IdempotencyKey.state) == "done", mentioning([str(contact_id)]))
        .order_by(col(IdempotencyKey.created_at))
    )
    rows = await reads.execute_rows(statement, with_trashed=True)
    return [StoredResponse(row.operation, row.created_at, row.expires_at) for row in rows]


async def person_ids(reads: Reading, contact_id: uuid.UUID) -> frozenset[uuid.UUID]:
    """The contact ids whose events are about the person: its own, and the ids merged into
    it (`merged_record`, chains already flattened to the survivor), whose history it carries
    on: their events hold the same person's values."""
    merged = sa.select(col(MergedRecord.merged_id)).where(
        col(MergedRecord.entity) == "contact", col(MergedRecord.survivor_id) == contact_id
    )
    found = (await reads.execute_rows(merged)).scalars().all()
    return frozenset({contact_id, *found})


def events_about(ids: frozenset[uuid.UUID], contact_id: uuid.UUID) -> sa.ColumnElement[bool]:
    """The person's own events (its fields, e-mails, phones and owners are all
    `crm.contact.*` about its id) and those of the activities and deals linked to it."""
    activities = sa.select(col(Activity.id)).where(col(Activity.contact_id) == contact_id)
    deals = sa.select(col(Deal.id)).where(col(Deal.contact_id) == contact_id)
    return sa.or_(
        sa.and_(col(CrmEvent.entity) == "contact", col(CrmEvent.entity_id).in_(sorted(ids))),
        sa.and_(col(CrmEvent.entity) == "activity", col(CrmEvent.entity_id).in_(activities)),
        sa.and_(col(CrmEvent.entity) == "deal", col(CrmEvent.entity_id).in_(deals)),
    )


async def _events(
    reads: Reading, contact_id: uuid.UUID, after: int | None, limit: int
) -> EventPart:
    seq = col(CrmEvent.seq)
    about = events_about(await person_ids(reads, contact_id), contact_id)
    total = sa.select(sa.func.count()).select_from(CrmEvent).where(about)
    count = int((await reads.execute_rows(total, with_trashed=True)).scalar_one())
    statement = sa.select(CrmEvent).where(about).order_by(seq).limit(limit + 1)
    if after is not None:
        statement = statement.where(seq > after)
    rows = (await reads.execute(statement, with_trashed=True)).scalars().all()
    events = [CrmEventMessage.from_row(row) for row in rows[:limit]]
    more = len(rows) > limit
    return EventPart(events, count, after, events[-1].seq if more and events else None)
