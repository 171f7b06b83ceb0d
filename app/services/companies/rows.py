"""What reading a company returns (the read model between the services and the resolvers).

A Protocol, not a class: the rows SQLAlchemy reads satisfy it as they are (nothing is built
per row); the data layer types its reads with it (app.data.records.Entity). The attributes
are the record columns of models.Company, checked by tests/test_read_models.py.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

from models.enums import CompanySize, EntityStatus


class CompanyRow(Protocol):
    id: uuid.UUID
    name: str
    website: str | None
    industry_id: uuid.UUID | None
    account_type_id: uuid.UUID | None
    status: EntityStatus
    vat_id: str | None
    tax_id: str | None
    trade_register_number: str | None
    register_court: str | None
    company_size: CompanySize | None
    billing_address: dict[str, Any] | None  # JSON as the column holds it (an Address's dump)
    delivery_address: dict[str, Any] | None
    data_enriched_at: datetime | None
    data_enrichment_source: str | None
    tags: list[str]
    notes: str | None
    lexware_contact_id: uuid.UUID | None
    lexware_contact_version: int | None
    lexware_synced_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
