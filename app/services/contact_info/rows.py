"""What reading an e-mail address or a phone number returns: Protocols of the record columns
of models.ContactEmail and models.ContactPhone (see app/services/companies/rows.py for why).
`ValueRow` is what the two have in common, for the code that serves either."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from models.enums import EmailType, PhoneType


class ValueRow(Protocol):
    id: uuid.UUID
    contact_id: uuid.UUID | None
    company_id: uuid.UUID | None
    is_primary: bool
    created_at: datetime
    updated_at: datetime


class EmailRow(ValueRow, Protocol):
    type: EmailType
    email: str


class PhoneRow(ValueRow, Protocol):
    type: PhoneType
    phone: str
    e164: str | None
