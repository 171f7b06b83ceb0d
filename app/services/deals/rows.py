"""What reading a deal returns: a Protocol of the record columns of models.Deal (see
app/services/companies/rows.py for why a Protocol)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from models.enums import DealStatus, LostReason


class DealRow(Protocol):
    id: uuid.UUID
    title: str
    value: Decimal
    currency: str
    pipeline_id: uuid.UUID
    stage_id: uuid.UUID
    contact_id: uuid.UUID | None
    company_id: uuid.UUID | None
    expected_close_date: date | None
    status: DealStatus
    lost_reason: LostReason | None
    lost_reason_text: str | None
    closed_at: datetime | None
    last_open_stage_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime
