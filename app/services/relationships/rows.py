"""What reading a company relationship returns: a Protocol of the record columns of
models.CompanyRelationship (see app/services/companies/rows.py for why a Protocol)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol


class RelationshipRow(Protocol):
    id: uuid.UUID
    from_company_id: uuid.UUID
    to_company_id: uuid.UUID
    relationship_type_id: uuid.UUID
    notes: str | None
    created_at: datetime
    updated_at: datetime
