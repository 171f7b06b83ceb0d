"""The inputs of mergeCompanies and mergeContacts: which record's value a field takes."""

from __future__ import annotations

import enum

import strawberry

# Each member's value is the column (tests/test_merge.py: the enums list exactly the fields
# app.services.merges.rules merges).


@strawberry.enum(description="The fields of a company whose value a merge chooses.")
class CompanyMergeField(enum.Enum):
    NAME = "name"
    WEBSITE = "website"
    INDUSTRY_ID = "industry_id"
    ACCOUNT_TYPE_ID = "account_type_id"
    STATUS = "status"
    VAT_ID = "vat_id"
    TAX_ID = "tax_id"
    TRADE_REGISTER_NUMBER = "trade_register_number"
    REGISTER_COURT = "register_court"
    COMPANY_SIZE = "company_size"
    BILLING_ADDRESS = "billing_address"
    DELIVERY_ADDRESS = "delivery_address"
    DATA_ENRICHED_AT = "data_enriched_at"
    DATA_ENRICHMENT_SOURCE = "data_enrichment_source"
    NOTES = "notes"


@strawberry.enum(description="The fields of a contact whose value a merge chooses.")
class ContactMergeField(enum.Enum):
    SALUTATION = "salutation"
    TITLE = "title"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    POSITION = "position"
    DEPARTMENT = "department"
    COMPANY_ID = "company_id"
    STATUS = "status"
    LINKEDIN_URL = "linkedin_url"
    BIRTHDAY = "birthday"
    SOURCE = "source"
    NOTES = "notes"


@strawberry.input(description="The record (survivor or merged) whose value of `field` wins.")
class CompanyFieldChoice:
    field: CompanyMergeField
    from_id: strawberry.ID


@strawberry.input(description="The record (survivor or merged) whose value of `field` wins.")
class ContactFieldChoice:
    field: ContactMergeField
    from_id: strawberry.ID
