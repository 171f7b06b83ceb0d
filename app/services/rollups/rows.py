"""What reading a record's roll-ups returns: figures over its activities and deals."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class MoneyAmount:
    """A sum of deal values in one currency (GraphQL's `Money`)."""

    amount: Decimal
    currency: str


@dataclass(frozen=True)
class RollupRow:
    """The roll-ups of one company or contact (a record without activities or deals has
    nulls, zero and an empty list)."""

    id: uuid.UUID
    last_activity_at: datetime | None = None
    next_activity_due_at: datetime | None = None
    open_deal_count: int = 0
    open_deal_value: list[MoneyAmount] = field(default_factory=list)
