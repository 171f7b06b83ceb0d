"""What reading a user returns: a Protocol of the record columns of models.User (see
app/services/companies/rows.py for why a Protocol)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol


class UserRow(Protocol):
    id: uuid.UUID
    subject: str | None
    email: str | None
    name: str | None
    signed_in_at: datetime | None
    created_at: datetime
    updated_at: datetime
