"""What reading an activity returns: a Protocol of the record columns of models.Activity (see
app/services/companies/rows.py for why a Protocol)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from models.enums import ActivityType


class ActivityRow(Protocol):
    id: uuid.UUID
    type: ActivityType
    subject: str
    body: str | None
    due_at: datetime | None
    completed_at: datetime | None
    assignee_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    company_id: uuid.UUID | None
    deal_id: uuid.UUID | None
    reminded_due_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
