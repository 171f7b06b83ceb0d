"""What reading a contact returns: a Protocol of the record columns of models.Contact (see
app/services/companies/rows.py for why a Protocol)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Protocol

from models.enums import ContactSource, EntityStatus


class ContactRow(Protocol):
    id: uuid.UUID
    salutation: str | None
    title: str | None
    first_name: str | None
    last_name: str
    position: str | None
    department: str | None
    company_id: uuid.UUID | None
    status: EntityStatus
    linkedin_url: str | None
    birthday: date | None
    source: ContactSource | None
    tags: list[str]
    notes: str | None
    lexware_contact_id: uuid.UUID | None
    lexware_contact_version: int | None
    lexware_synced_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
