"""What reading a contract returns: a Protocol of the record columns of models.Contract (see
app/services/companies/rows.py for why a Protocol)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from models.enums import ContractStatus


class ContractRow(Protocol):
    id: uuid.UUID
    company_id: uuid.UUID
    title: str
    number: str | None
    start_date: date | None
    end_date: date | None
    value: Decimal | None
    currency: str
    status: ContractStatus
    notes: str | None
    version: int
    created_at: datetime
    updated_at: datetime
