"""What reading a lookup entry returns: Protocols of the record columns of models.Industry,
models.AccountType and models.RelationshipType (see app/services/companies/rows.py for why).
`LookupRow` is what the three have in common, for the code that serves any of them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol, TypeVar


class LookupRow(Protocol):
    id: uuid.UUID
    name: str
    created_at: datetime
    updated_at: datetime


class IndustryRow(LookupRow, Protocol):
    color: str | None


class AccountTypeRow(LookupRow, Protocol):
    description: str | None


class RelationshipTypeRow(LookupRow, Protocol):
    inverse_name: str | None


LookupT = TypeVar("LookupT", bound=LookupRow)  # the rows of the list a function is given
