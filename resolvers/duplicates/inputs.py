"""The drafts duplicateCandidates checks before a record is saved."""

from __future__ import annotations

import strawberry

REJECT_DUPLICATES = (
    "true: a STRONG duplicate (see duplicateCandidates) makes this write a CONFLICT naming "
    "the existing records and the rules that matched (extensions.duplicates); nothing is "
    "written."
)
DRAFT_ID = "The record this draft would update (it is not its own duplicate); null for a new one."
_EMAILS = "Its e-mail addresses as typed, at most 20 (each at most 320 characters)."
_PHONES = "Its phone numbers as typed, at most 20; compared in their E.164 form (region DE)."
_LEXWARE = "The Lexware contact it would be linked to (rule LEXWARE_CONTACT)."


@strawberry.input(description="A company as a form holds it before saving; every field optional.")
class CompanyDraftInput:
    id: strawberry.ID | None = strawberry.field(default=None, description=DRAFT_ID)
    name: str | None = strawberry.field(
        default=None, description="The company name as typed, at most 200 characters."
    )
    vat_id: str | None = strawberry.field(
        default=None,
        description="The VAT id as typed (spaces, dots and case do not matter), at most 50 "
        "characters.",
    )
    website: str | None = strawberry.field(
        default=None,
        description="The website as typed, at most 500 characters; its domain is compared.",
    )
    zip: str | None = strawberry.field(default=None, description="The billing address' postcode.")
    emails: list[str] | None = strawberry.field(default=None, description=_EMAILS)
    phones: list[str] | None = strawberry.field(default=None, description=_PHONES)
    lexware_contact_id: strawberry.ID | None = strawberry.field(default=None, description=_LEXWARE)


@strawberry.input(description="A contact as a form holds it before saving; every field optional.")
class ContactDraftInput:
    id: strawberry.ID | None = strawberry.field(default=None, description=DRAFT_ID)
    first_name: str | None = strawberry.field(
        default=None, description="The first name as typed, at most 100 characters."
    )
    last_name: str | None = strawberry.field(
        default=None, description="The last name as typed, at most 100 characters."
    )
    company_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The company the contact works for (with the name: rule NAME_AND_COMPANY).",
    )
    emails: list[str] | None = strawberry.field(default=None, description=_EMAILS)
    phones: list[str] | None = strawberry.field(default=None, description=_PHONES)
    lexware_contact_id: strawberry.ID | None = strawberry.field(default=None, description=_LEXWARE)
