"""What reading an owner returns: Protocols of the record columns of models.CompanyOwner,
ContactOwner and DealOwner (see app/services/companies/rows.py for why a Protocol).
`OwnerRow` is what the three have in common, for the code that serves any of them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from models.enums import OwnerRole


class OwnerRow(Protocol):
    id: uuid.UUID
    user_id: uuid.UUID
    role: OwnerRole
    created_at: datetime
    updated_at: datetime


class CompanyOwnerRow(OwnerRow, Protocol):
    company_id: uuid.UUID


class ContactOwnerRow(OwnerRow, Protocol):
    contact_id: uuid.UUID


class DealOwnerRow(OwnerRow, Protocol):
    deal_id: uuid.UUID
