"""The answers of exportPersonalData and eraseContact: typed parts (the CRM's own types, so
GraphiQL shows them) and, for the export, the whole as one JSON document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from app.events.message import CrmEventMessage
from app.services.activities.rows import ActivityRow
from app.services.contact_info.rows import EmailRow, PhoneRow
from app.services.contacts.rows import ContactRow
from app.services.deals.rows import DealRow
from app.services.lexware.rows import VoucherRow
from app.services.owners.rows import ContactOwnerRow
from app.services.privacy.queries import PersonalData, StoredResponse
from app.services.privacy.service import Erasure
from resolvers.activities.types import Activity
from resolvers.contact_info.types import Email, Phone
from resolvers.contacts.types import Contact
from resolvers.deals.types import Deal
from resolvers.events.types import CrmEventType
from resolvers.lexware.vouchers import LexwareVoucher
from resolvers.owners.types import Owner


@strawberry.type(description="A stored response of an idempotent request that mentions the person.")
class StoredResponseMention:
    operation: str | None = strawberry.field(
        description="The name of the mutation operation that was sent (at most 200 "
        "characters); null for an anonymous operation."
    )
    created_at: datetime = strawberry.field(description="When the request was answered.")
    expires_at: datetime = strawberry.field(description="When the stored response is deleted.")


@strawberry.type(
    description="Everything the CRM holds about a person (GDPR art. 15 and 20). `document` is "
    "the same as one machine-readable JSON document. Events come in parts of at most "
    "PERSONAL_EXPORT_MAX_EVENTS, oldest first: when `eventsComplete` is false, ask again with "
    "`eventsAfter: eventsNextAfter` for the next part."
)
class PersonalDataExport:
    @strawberry.field(description="When this export was made (UTC).")
    def generated_at(self, root: strawberry.Parent[PersonalData]) -> datetime:
        return root.generated_at

    @strawberry.field(graphql_type=Contact, description="The record, with its tags and company.")
    def contact(self, root: strawberry.Parent[PersonalData]) -> ContactRow:
        return root.contact

    @strawberry.field(graphql_type=list[Email], description="Its e-mail addresses.")
    def emails(self, root: strawberry.Parent[PersonalData]) -> list[EmailRow]:
        return root.emails

    @strawberry.field(graphql_type=list[Phone], description="Its phone numbers.")
    def phones(self, root: strawberry.Parent[PersonalData]) -> list[PhoneRow]:
        return root.phones

    @strawberry.field(
        graphql_type=list[Owner], description="The users responsible for it, with their role."
    )
    def owners(self, root: strawberry.Parent[PersonalData]) -> list[ContactOwnerRow]:
        return root.owners

    @strawberry.field(graphql_type=list[Activity], description="Activities linked to it.")
    def activities(self, root: strawberry.Parent[PersonalData]) -> list[ActivityRow]:
        return root.activities

    @strawberry.field(graphql_type=list[Deal], description="Deals it is the contact of.")
    def deals(self, root: strawberry.Parent[PersonalData]) -> list[DealRow]:
        return root.deals

    @strawberry.field(description="The Lexware contact it is linked to; null: not linked.")
    def lexware_contact_id(self, root: strawberry.Parent[PersonalData]) -> strawberry.ID | None:
        linked = root.contact.lexware_contact_id
        return None if linked is None else strawberry.ID(str(linked))

    @strawberry.field(
        graphql_type=JSON | None, description="Both sides' Lexware fields as last synced."
    )
    def lexware_synced_values(self, root: strawberry.Parent[PersonalData]) -> dict[str, Any] | None:
        return root.lexware_synced_values

    @strawberry.field(
        graphql_type=list[LexwareVoucher],
        description="The cached vouchers of its Lexware contact.",
    )
    def lexware_vouchers(self, root: strawberry.Parent[PersonalData]) -> list[VoucherRow]:
        return root.vouchers

    @strawberry.field(
        graphql_type=list[StoredResponseMention],
        description="Stored responses of idempotent requests (Idempotency-Key) that mention it.",
    )
    def stored_responses(self, root: strawberry.Parent[PersonalData]) -> list[StoredResponse]:
        return root.stored_responses

    @strawberry.field(
        graphql_type=list[CrmEventType],
        description="Events about it (its own and its activities'), oldest first: this part.",
    )
    def events(self, root: strawberry.Parent[PersonalData]) -> list[CrmEventMessage]:
        return root.events.events

    @strawberry.field(description="How many events there are about it, in all parts.")
    def events_total(self, root: strawberry.Parent[PersonalData]) -> int:
        return root.events.total

    @strawberry.field(description="Whether this part holds the last of its events.")
    def events_complete(self, root: strawberry.Parent[PersonalData]) -> bool:
        return root.events.next_after is None

    @strawberry.field(description="Pass as eventsAfter for the next part; null when complete.")
    def events_next_after(self, root: strawberry.Parent[PersonalData]) -> strawberry.ID | None:
        after = root.events.next_after
        return None if after is None else strawberry.ID(str(after))

    @strawberry.field(
        graphql_type=JSON,
        description="The whole export (this part of the events) as one document.",
    )
    def document(self, root: strawberry.Parent[PersonalData]) -> dict[str, Any]:
        return root.document()


@strawberry.type(
    description="What eraseContact did. `lexwareNotice` is meant to be shown to the admin."
)
class ContactErasure:
    @strawberry.field(
        description="The erased contact's id: now NOT_FOUND everywhere (erasing it again too)."
    )
    def contact_id(self, root: strawberry.Parent[Erasure]) -> strawberry.ID:
        return strawberry.ID(str(root.contact_id))

    @strawberry.field(description="When the erasure was committed.")
    def erased_at(self, root: strawberry.Parent[Erasure]) -> datetime:
        return root.erased_at

    @strawberry.field(description="Activities linked only to the person: deleted.")
    def activities_erased(self, root: strawberry.Parent[Erasure]) -> int:
        return len(root.activities_erased)

    @strawberry.field(
        description="Activities kept for their company or deal (or naming the person): its "
        "values in their subject and body replaced by [erased]."
    )
    def activities_scrubbed(self, root: strawberry.Parent[Erasure]) -> int:
        return len(root.activities_scrubbed)

    @strawberry.field(description="Deals it was the contact of: unlinked, kept.")
    def deals_unlinked(self, root: strawberry.Parent[Erasure]) -> int:
        return len(root.deals_unlinked)

    @strawberry.field(
        description="Other records whose free texts (deal titles, notes) named its full name, "
        "e-mail or phone: those values replaced by [erased]."
    )
    def records_scrubbed(self, root: strawberry.Parent[Erasure]) -> int:
        return root.records_scrubbed

    @strawberry.field(description="Events about it with every value but ids and codes erased.")
    def events_erased(self, root: strawberry.Parent[Erasure]) -> int:
        return root.events.erased

    @strawberry.field(description="Other events whose texts held its values, scrubbed.")
    def events_scrubbed(self, root: strawberry.Parent[Erasure]) -> int:
        return root.events.scrubbed

    @strawberry.field(description="Stored responses of idempotent requests, scrubbed.")
    def stored_responses_scrubbed(self, root: strawberry.Parent[Erasure]) -> int:
        return root.stored_responses_scrubbed

    @strawberry.field(description="Cached Lexware vouchers without the name Lexware gave them.")
    def vouchers_scrubbed(self, root: strawberry.Parent[Erasure]) -> int:
        return root.vouchers_scrubbed

    @strawberry.field(description="The Lexware contact it was linked to, if any (untouched).")
    def lexware_contact_id(self, root: strawberry.Parent[Erasure]) -> strawberry.ID | None:
        linked = root.lexware_contact_id
        return None if linked is None else strawberry.ID(str(linked))

    @strawberry.field(
        description="For the admin: Lexware Office keeps its own copy (bookkeeping retention, "
        "§147 AO / §257 HGB); the CRM did not touch it."
    )
    def lexware_notice(self, root: strawberry.Parent[Erasure]) -> str:
        return root.lexware_notice
