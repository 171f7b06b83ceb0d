"""What a company is (declarations, no I/O): the table as the services treat it (constraint
errors, events, the rows a delete unlinks) and a valid input, whole and as a patch."""

from __future__ import annotations

import uuid
from typing import Self

from pydantic import model_validator

from app.data.changes import Tracked
from app.data.records import Dependent, Entity
from app.errors import Conflict, NotFound
from app.services.common.validation import (
    Address,
    Input,
    LongText,
    Moment,
    Name200,
    RegisterCourt,
    Tags,
    TaxNumber,
    Text100,
    TradeRegisterNumber,
    VatId,
    Website,
    court_apart,
    patch_model,
)
from app.services.companies.rows import CompanyRow
from app.services.lexware.rules import LEXWARE_BOOKKEEPING
from app.services.owners.rules import COMPANY_OWNERS
from app.services.relationships.rules import RELATIONSHIP_EVENTS
from models import Activity, Company, CompanyRelationship, CompanySize, Contact, Deal, EntityStatus


class CompanyInput(Input):
    name: Name200
    website: Website | None = None
    industry_id: uuid.UUID | None = None
    account_type_id: uuid.UUID | None = None
    status: EntityStatus = EntityStatus.ACTIVE
    vat_id: VatId | None = None
    tax_id: TaxNumber = None
    trade_register_number: TradeRegisterNumber = None
    register_court: RegisterCourt = None
    company_size: CompanySize | None = None
    billing_address: Address | None = None
    delivery_address: Address | None = None
    data_enriched_at: Moment | None = None
    data_enrichment_source: Text100 = None
    tags: Tags = []
    notes: LongText = None

    @model_validator(mode="after")
    def _court_apart(self) -> Self:
        """A register number typed with its court keeps the number; the court goes to
        registerCourt, which, when sent too, must name the same court."""
        return court_apart(self)


CompanyPatch, NOT_NULLABLE = patch_model(CompanyInput)


COMPANY = Entity(
    Company,
    "Company",
    {
        "fk_company_industry_id_industry": lambda: NotFound("Industry"),
        "fk_company_account_type_id_account_type": lambda: NotFound("Account type"),
        "uq_company_tenant_id_lexware_contact_id": lambda: Conflict(
            "This Lexware contact is already linked to another company."
        ),
        **COMPANY_OWNERS.entity.constraint_errors,  # owners named when it is created
    },
    Tracked("company", hidden=LEXWARE_BOOKKEEPING),
    (
        # Its deals before its contacts: the lock order of lexware_deal_parties (a deal, then
        # its company, then its contact), so that a delete never waits in a circle with a
        # voucher link or a deal update holding a deal and waiting for its contact.
        Dependent(Deal, "company_id", Tracked("deal")),
        Dependent(Contact, "company_id", Tracked("contact")),
        Dependent(Activity, "company_id", Tracked("activity"), kept_by=("contact_id", "deal_id")),
        Dependent(CompanyRelationship, "to_company_id", RELATIONSHIP_EVENTS, removes=True),
    ),
    row=CompanyRow,
)


COLUMNS = COMPANY.columns
