"""What a contact is (declarations, no I/O): the table as the services treat it (constraint
errors, events, the rows a delete unlinks) and a valid input, whole and as a patch, with the
checks of its LinkedIn URL and birthday."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Annotated

from pydantic import AfterValidator

from app.data.changes import Tracked
from app.data.records import Dependent, Entity
from app.errors import Conflict, NotFound
from app.services.common.validation import (
    Input,
    LongText,
    Name100,
    Tags,
    Text50,
    Text100,
    patch_model,
)
from app.services.contacts.rows import ContactRow
from app.services.lexware.rules import LEXWARE_BOOKKEEPING
from app.services.owners.rules import CONTACT_OWNERS
from models import Activity, Contact, ContactSource, Deal, EntityStatus

_LINKEDIN = re.compile(r"^https://([a-z]{2,3}\.)?linkedin\.com/in/[A-Za-z0-9\-_%.]{2,100}/?$")


def _check_linkedin(value: str) -> str:
    candidate = value.strip()
    if candidate.startswith(("linkedin.com", "www.linkedin.com")):
        candidate = f"https://{candidate}"
    candidate = candidate.replace("http://", "https://", 1)
    if not _LINKEDIN.match(candidate):
        raise ValueError(
            "must be a LinkedIn profile URL such as https://www.linkedin.com/in/anna-schmidt"
        )
    return candidate


def _check_birthday(value: date) -> date:
    if value > date.today():
        raise ValueError("cannot be in the future")
    if value.year < 1900:
        raise ValueError("must be after 1900")
    return value


LinkedInUrl = Annotated[str, AfterValidator(_check_linkedin)]


Birthday = Annotated[date, AfterValidator(_check_birthday)]


class ContactInput(Input):
    salutation: Text50 = None
    title: Text50 = None
    first_name: Text100 = None
    last_name: Name100
    position: Text100 = None
    department: Text100 = None
    company_id: uuid.UUID | None = None
    status: EntityStatus = EntityStatus.ACTIVE
    linkedin_url: LinkedInUrl | None = None
    birthday: Birthday | None = None
    source: ContactSource | None = None
    tags: Tags = []
    notes: LongText = None


ContactPatch, NOT_NULLABLE = patch_model(ContactInput)


CONTACT = Entity(
    Contact,
    "Contact",
    {
        "fk_contact_company_id_company": lambda: NotFound("Company"),
        "uq_contact_tenant_id_lexware_contact_id": lambda: Conflict(
            "This Lexware contact is already linked to another contact."
        ),
        **CONTACT_OWNERS.entity.constraint_errors,  # owners named when it is created
    },
    Tracked("contact", hidden=LEXWARE_BOOKKEEPING),
    (
        Dependent(Deal, "contact_id", Tracked("deal")),
        Dependent(Activity, "contact_id", Tracked("activity"), kept_by=("company_id", "deal_id")),
    ),
    row=ContactRow,
)
