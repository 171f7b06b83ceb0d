"""The drafts duplicateCandidates checks before a record is saved."""

from __future__ import annotations

import strawberry

REJECT_DUPLICATES = (
    "true: a STRONG duplicate (see duplicateCandidates) makes this write a CONFLICT naming "
    "the existing records and the rules that matched (extensions.duplicates); nothing is "
    "written."
)
DRAFT_ID = "The record this draft would update (it is not its own duplicate); null for a new one."


@strawberry.input(description="A company as a form holds it before saving; every field optional.")
class CompanyDraftInput:
    id: strawberry.ID | None = strawberry.field(default=None, description=DRAFT_ID)
    name: str | None = None
    vat_id: str | None = None
    website: str | None = None
    zip: str | None = strawberry.field(default=None, description="The billing address' postcode.")
    emails: list[str] | None = None
    phones: list[str] | None = None
    lexware_contact_id: strawberry.ID | None = None


@strawberry.input(description="A contact as a form holds it before saving; every field optional.")
class ContactDraftInput:
    id: strawberry.ID | None = strawberry.field(default=None, description=DRAFT_ID)
    first_name: str | None = None
    last_name: str | None = None
    company_id: strawberry.ID | None = None
    emails: list[str] | None = None
    phones: list[str] | None = None
    lexware_contact_id: strawberry.ID | None = None
