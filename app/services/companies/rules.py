"""What a valid company is (pure, no I/O): its input, whole and as a patch."""

from __future__ import annotations

import uuid

from app.services.common.validation import (
    Address,
    Input,
    LongText,
    Moment,
    Name200,
    Tags,
    Text30,
    Text50,
    Text100,
    VatId,
    Website,
    patch_model,
)
from models import CompanySize, EntityStatus


class CompanyInput(Input):
    name: Name200
    website: Website | None = None
    industry_id: uuid.UUID | None = None
    account_type_id: uuid.UUID | None = None
    status: EntityStatus = EntityStatus.ACTIVE
    vat_id: VatId | None = None
    tax_id: Text30 = None
    trade_register_number: Text50 = None
    register_court: Text100 = None
    company_size: CompanySize | None = None
    billing_address: Address | None = None
    delivery_address: Address | None = None
    data_enriched_at: Moment | None = None
    data_enrichment_source: Text100 = None
    tags: Tags = []
    notes: LongText = None


CompanyPatch, NOT_NULLABLE = patch_model(CompanyInput)
