"""What reading a cached Lexware voucher or a deal's voucher link returns: Protocols of the
record columns of models.LexwareVoucher and models.DealVoucher (see
app/services/companies/rows.py for why a Protocol)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from app.services.companies.rows import CompanyRow
from app.services.contacts.rows import ContactRow

# A CRM record that links to a Lexware contact.
LinkedRow = CompanyRow | ContactRow


class VoucherRow(Protocol):
    id: uuid.UUID
    lexware_voucher_id: uuid.UUID
    voucher_type: str
    voucher_status: str
    voucher_number: str | None
    voucher_date: datetime | None
    due_date: datetime | None
    contact_name: str | None
    total_amount: Decimal | None
    open_amount: Decimal | None
    currency: str
    lexware_contact_id: uuid.UUID | None
    company_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    lexware_updated_at: datetime | None
    created_at: datetime
    updated_at: datetime


class DealVoucherRow(Protocol):
    id: uuid.UUID
    deal_id: uuid.UUID
    voucher_id: uuid.UUID
    linked_by_id: uuid.UUID | None
    linked_at: datetime
    created_at: datetime
    updated_at: datetime
