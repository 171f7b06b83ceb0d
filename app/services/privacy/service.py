"""Erasing a person (GDPR art. 17), in one transaction:

1. the contact row is locked and its values collected (names, e-mails, phones, LinkedIn);
2. the deals it is the contact of: unlinked, title and lost-reason text without its values;
3. its activities: those linked to nothing else are deleted (text and all); those also
   linked to a company or a deal stay with those, unlinked from the person, their subject
   and body without its values; any other activity of the tenant naming it (a full name, an
   e-mail address, a phone number) loses those values too, as do the free texts of the
   tenant's other records (deal titles, notes of companies, contacts, contracts and
   relationships);
4. Lexware: the cached vouchers of its Lexware contact lose the name Lexware sent with them,
   and the push's merge base (`lexware_synced_values`) of any record holding its values
   (its company's contact person) is dropped; Lexware Office itself is not touched;
5. the contact row is deleted (its e-mails, phones and owners go with it, by their CASCADE):
   no placeholder stays, because a row of links and dates under an id is still data about
   the person, and every reference to it is cut in the steps above;
6. the event history and stored responses are scrubbed (app/services/privacy/scrubbing.py),
   the events kept;
7. one `crm.contact.erased` event: ids and counts, no personal value.

Every statement passes `with_trashed=True`: a trashed person is erased too, with its trashed
activities and deals (and a trashed company's merge base).

Only this one event is recorded: the unlinked deals, the scrubbed activities and the other
records whose texts were scrubbed are listed in it by id (a subscriber re-reads them), since
an `updated` event per row would carry the very values being erased.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.data.pagination import like_literal
from app.data.tenancy import TenantScope
from app.data.unit_of_work import UnitOfWork
from app.errors import AppError, NotFound
from app.services.privacy.merged import merged_values, united
from app.services.privacy.queries import person_ids
from app.services.privacy.rules import (
    ERASED_EVENT,
    LEXWARE_NOTICE,
    MARKER,
    NOT_LINKED_NOTICE,
    PersonalValues,
    Scrubber,
    clipped,
    personal_values,
)
from app.services.privacy.scrubbing import (
    EventCounts,
    EventSubjects,
    drop_company_values,
    holding,
    scrub_events,
    scrub_mentions,
    scrub_stored_responses,
)
from models import (
    Activity,
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    CrmEvent,
    Deal,
    LexwareVoucher,
    MergedRecord,
)

SUBJECT_LENGTH, TITLE_LENGTH, LOST_REASON_LENGTH = 200, 200, 500


class ErasedAlready(NotFound):
    """NOT_FOUND, saying why: the contact was erased (by the event `erasedEventId`)."""

    def __init__(self, seq: int) -> None:
        AppError.__init__(self, "Contact not found: it was erased already.", erasedEventId=str(seq))


@dataclass(frozen=True)
class Erasure:
    """What an erasure did, for the admin who asked (no personal value in it)."""

    contact_id: uuid.UUID
    erased_at: datetime
    lexware_contact_id: uuid.UUID | None
    activities_erased: list[uuid.UUID]
    activities_scrubbed: list[uuid.UUID]
    deals_unlinked: list[uuid.UUID]
    mentions: dict[str, list[uuid.UUID]]  # other records whose free texts named the person
    vouchers_scrubbed: int
    lexware_bases_dropped: int
    events: EventCounts
    stored_responses_scrubbed: int

    @property
    def records_scrubbed(self) -> int:
        return sum(len(ids) for ids in self.mentions.values())

    @property
    def lexware_notice(self) -> str:
        if self.lexware_contact_id is None:
            return NOT_LINKED_NOTICE
        return f"{LEXWARE_NOTICE} Lexware contact id: {self.lexware_contact_id}."

    def event(self, actor_id: uuid.UUID | None) -> dict[str, Any]:
        """The `crm.contact.erased` event's changes: who, when, what, by id and count."""
        return {
            "erasedBy": None if actor_id is None else str(actor_id),
            "erasedAt": self.erased_at.isoformat(),
            "activityIdsErased": [str(i) for i in self.activities_erased],
            "activityIdsScrubbed": [str(i) for i in self.activities_scrubbed],
            "dealIdsUnlinked": [str(i) for i in self.deals_unlinked],
            "recordIdsScrubbed": {k: [str(i) for i in ids] for k, ids in self.mentions.items()},
            "counts": {
                "activitiesErased": len(self.activities_erased),
                "activitiesScrubbed": len(self.activities_scrubbed),
                "dealsUnlinked": len(self.deals_unlinked),
                "recordsScrubbed": self.records_scrubbed,
                "vouchersScrubbed": self.vouchers_scrubbed,
                "lexwareBasesDropped": self.lexware_bases_dropped,
                "eventsErased": self.events.erased,
                "eventsScrubbed": self.events.scrubbed,
                "storedResponsesScrubbed": self.stored_responses_scrubbed,
            },
        }


@dataclass
class _Activities:
    erased: list[uuid.UUID] = field(default_factory=list)
    scrubbed: list[uuid.UUID] = field(default_factory=list)


async def erase_contact(scope: TenantScope, contact_id: uuid.UUID) -> Erasure:
    async with scope.writing() as uow:
        contact = await _locked_contact(uow, contact_id)
        person = await person_ids(uow, contact_id)  # before the row goes
        # The records merged into the person held values of their own (read back from their
        # events): the texts and events that carry them lose them too.
        merged = await merged_values(uow, person - {contact_id})
        values = united([await _values(uow, contact), *merged])
        # Rows locked in deleteContact's order (the contact, its deals, its activities).
        deals = await _unlink_deals(uow, contact_id, Scrubber(values.all))
        activities = await _erase_activities(uow, contact_id, values)
        mentions = await scrub_mentions(uow, values, skip=contact_id)
        for company_id in await drop_company_values(uow, values):
            if company_id not in mentions.setdefault("company", []):
                mentions["company"].append(company_id)
        vouchers = await _scrub_vouchers(uow, contact_id, contact.lexware_contact_id)
        bases = await _drop_lexware_bases(uow, contact, values)
        # The row last: its e-mails, phones and owners go with it (CASCADE).
        await uow.execute_rows(
            sa.delete(Contact).where(col(Contact.id) == contact_id), with_trashed=True
        )
        # The tombstones of ids merged into the person: nothing is left to resolve to.
        await uow.execute_rows(
            sa.delete(MergedRecord).where(
                col(MergedRecord.entity) == "contact", col(MergedRecord.survivor_id) == contact_id
            )
        )
        subjects = EventSubjects(
            erased={"contact": person, "activity": set(activities.erased)},
            about={"activity": set(activities.scrubbed), "deal": set(deals)},
        )
        events = await scrub_events(uow, subjects, values)
        responses = await scrub_stored_responses(uow, contact_id, values)
        erasure = Erasure(
            contact_id=contact_id,
            erased_at=datetime.now(UTC),
            lexware_contact_id=contact.lexware_contact_id,
            activities_erased=activities.erased,
            activities_scrubbed=activities.scrubbed,
            deals_unlinked=deals,
            mentions=mentions,
            vouchers_scrubbed=vouchers,
            lexware_bases_dropped=bases,
            events=events,
            stored_responses_scrubbed=responses,
        )
        uow.record(ERASED_EVENT, "contact", contact_id, erasure.event(scope.actor_id))
    return erasure


async def _locked_contact(uow: UnitOfWork, contact_id: uuid.UUID) -> Any:
    statement = (
        sa.select(
            col(Contact.id),
            col(Contact.first_name),
            col(Contact.last_name),
            col(Contact.linkedin_url),
            col(Contact.company_id),
            col(Contact.lexware_contact_id),
        )
        .where(col(Contact.id) == contact_id)
        .with_for_update()
    )
    row = (await uow.execute_rows(statement, with_trashed=True)).first()
    if row is None:
        raise await _not_found(uow, contact_id)
    return row


async def _not_found(uow: UnitOfWork, contact_id: uuid.UUID) -> NotFound:
    """Unknown, or erased before: the tenant's own history says which (another tenant's id
    is unknown here, like any id)."""
    erased = sa.select(col(CrmEvent.seq)).where(
        col(CrmEvent.entity) == "contact",
        col(CrmEvent.entity_id) == contact_id,
        col(CrmEvent.type) == ERASED_EVENT,
    )
    seq = (await uow.execute_rows(erased.limit(1), with_trashed=True)).scalar()
    if seq is None:
        return NotFound("Contact")
    return ErasedAlready(seq)


async def _values(uow: UnitOfWork, contact: Any) -> PersonalValues:
    emails = sa.select(col(ContactEmail.email)).where(col(ContactEmail.contact_id) == contact.id)
    phones = sa.select(col(ContactPhone.phone)).where(col(ContactPhone.contact_id) == contact.id)
    return personal_values(
        contact.first_name,
        contact.last_name,
        contact.linkedin_url,
        list((await uow.execute_rows(emails, with_trashed=True)).scalars()),
        list((await uow.execute_rows(phones, with_trashed=True)).scalars()),
    )


def _text_holding(column: Any, values: tuple[str, ...]) -> sa.ColumnElement[bool]:
    return sa.or_(*(col(column).ilike(f"%{like_literal(v)}%") for v in values))


async def _erase_activities(
    uow: UnitOfWork, contact_id: uuid.UUID, values: PersonalValues
) -> _Activities:
    """The person's own activities deleted; shared ones unlinked and scrubbed of all its
    values; any other activity scrubbed of its whole values."""
    done = _Activities()
    linked = (
        sa.select(col(Activity.id), col(Activity.company_id), col(Activity.deal_id))
        .where(col(Activity.contact_id) == contact_id)
        .with_for_update()
    )
    for row in await uow.execute_rows(linked, with_trashed=True):
        alone = row.company_id is None and row.deal_id is None
        (done.erased if alone else done.scrubbed).append(row.id)
    if done.erased:
        await uow.execute_rows(
            sa.delete(Activity).where(col(Activity.id).in_(done.erased)), with_trashed=True
        )
    shared = col(Activity.id).in_(done.scrubbed)
    await _scrub_activities(uow, shared, Scrubber(values.all), unlink=True)
    if values.whole:
        mentioning = sa.or_(
            _text_holding(Activity.subject, values.whole),
            _text_holding(Activity.body, values.whole),
        )
        others = await _scrub_activities(uow, mentioning, Scrubber(values.whole), unlink=False)
        done.scrubbed += [i for i in others if i not in done.scrubbed]
    return done


async def _scrub_activities(
    uow: UnitOfWork, which: sa.ColumnElement[bool], scrubber: Scrubber, *, unlink: bool
) -> list[uuid.UUID]:
    """Subject and body without the values (`unlink`: and no longer the person's)."""
    statement = (
        sa.select(col(Activity.id), col(Activity.subject), col(Activity.body))
        .where(which)
        .with_for_update()
    )
    rewrite = (
        sa.update(Activity)
        .where(col(Activity.id) == sa.bindparam("activity_id", type_=sa.Uuid()))
        .values(
            subject=sa.bindparam("new_subject"),
            body=sa.bindparam("new_body"),
            version=col(Activity.version) + 1,
            **({"contact_id": None} if unlink else {}),
        )
    )
    changed = []
    for row in list(await uow.execute_rows(statement, with_trashed=True)):
        subject = clipped(scrubber.text(row.subject), SUBJECT_LENGTH)
        values = {
            "activity_id": row.id,
            "new_subject": subject,
            "new_body": scrubber.optional(row.body),
        }
        await uow.execute_rows(rewrite, values, with_trashed=True)
        changed.append(row.id)
    return changed


async def _unlink_deals(
    uow: UnitOfWork, contact_id: uuid.UUID, scrubber: Scrubber
) -> list[uuid.UUID]:
    statement = (
        sa.select(col(Deal.id), col(Deal.title), col(Deal.lost_reason_text))
        .where(col(Deal.contact_id) == contact_id)
        .with_for_update()
    )
    rewrite = (
        sa.update(Deal)
        .where(col(Deal.id) == sa.bindparam("deal_id", type_=sa.Uuid()))
        .values(
            title=sa.bindparam("new_title"),
            lost_reason_text=sa.bindparam("new_reason"),
            contact_id=None,
            version=col(Deal.version) + 1,
        )
    )
    unlinked = []
    for row in list(await uow.execute_rows(statement, with_trashed=True)):
        reason = scrubber.optional(row.lost_reason_text)
        values = {
            "deal_id": row.id,
            "new_title": clipped(scrubber.text(row.title), TITLE_LENGTH),
            "new_reason": None if reason is None else clipped(reason, LOST_REASON_LENGTH),
        }
        await uow.execute_rows(rewrite, values, with_trashed=True)
        unlinked.append(row.id)
    return unlinked


async def _scrub_vouchers(
    uow: UnitOfWork, contact_id: uuid.UUID, lexware_id: uuid.UUID | None
) -> int:
    """The cached vouchers of its Lexware contact keep their numbers and amounts (Lexware's
    bookkeeping, shown on the company and deals), without the person's name."""
    about = col(LexwareVoucher.contact_id) == contact_id
    if lexware_id is not None:
        about = sa.or_(about, col(LexwareVoucher.lexware_contact_id) == lexware_id)
    statement = (
        sa.update(LexwareVoucher)
        .where(about)
        .values(contact_name=MARKER, contact_id=None)
        .returning(col(LexwareVoucher.id))
    )
    return len(list(await uow.execute_rows(statement, with_trashed=True)))


async def _drop_lexware_bases(uow: UnitOfWork, contact: Any, values: PersonalValues) -> int:
    """A linked company's merge base holds its first contact as Lexware's contact person
    (app/lexware/fields.py): dropped where it holds the person, so the next push of that
    company starts from both sides as they are then (as after linking)."""
    dropped = 0
    synced = col(Company.lexware_synced_values)
    conditions = [holding(synced, values.whole)] if values.whole else []
    if contact.company_id is not None:
        conditions.append(col(Company.id) == contact.company_id)
    if conditions:
        statement = (
            sa.update(Company)
            .where(synced.is_not(None), sa.or_(*conditions))
            .values(lexware_synced_values=None)
            .returning(col(Company.id))
        )
        dropped += len(list(await uow.execute_rows(statement, with_trashed=True)))
    if values.whole:
        others = col(Contact.lexware_synced_values)
        statement = (
            sa.update(Contact)
            .where(
                others.is_not(None), col(Contact.id) != contact.id, holding(others, values.whole)
            )
            .values(lexware_synced_values=None)
            .returning(col(Contact.id))
        )
        dropped += len(list(await uow.execute_rows(statement, with_trashed=True)))
    return dropped
