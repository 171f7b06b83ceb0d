"""The inputs of mergeCompanies and mergeContacts: which record's value a field takes."""

from __future__ import annotations

import enum

import strawberry

# Each member's value is the column (tests/test_merge.py: the enums list exactly the fields
# app.services.merges.rules merges).

_FROM_ID = (
    "The survivor or one of the merged records: its value wins, even when empty. Any other id "
    "is BAD_USER_INPUT."
)


@strawberry.enum(description="The fields of a company whose value a merge chooses.")
class CompanyMergeField(enum.Enum):
    NAME = strawberry.enum_value("name", description="The company name (`name`).")
    WEBSITE = strawberry.enum_value("website", description="The website (`website`).")
    INDUSTRY_ID = strawberry.enum_value("industry_id", description="The industry (`industryId`).")
    ACCOUNT_TYPE_ID = strawberry.enum_value(
        "account_type_id", description="The account type (`accountTypeId`)."
    )
    STATUS = strawberry.enum_value("status", description="ACTIVE, INACTIVE or BLOCKED (`status`).")
    VAT_ID = strawberry.enum_value("vat_id", description="The VAT id (`vatId`).")
    TAX_ID = strawberry.enum_value("tax_id", description="The German tax number (`taxId`).")
    TRADE_REGISTER_NUMBER = strawberry.enum_value(
        "trade_register_number",
        description="The commercial register number, e.g. HRB 12345 (`tradeRegisterNumber`).",
    )
    REGISTER_COURT = strawberry.enum_value(
        "register_court", description="The register court (`registerCourt`)."
    )
    COMPANY_SIZE = strawberry.enum_value(
        "company_size", description="The employee band (`companySize`)."
    )
    BILLING_ADDRESS = strawberry.enum_value(
        "billing_address", description="The billing address, as a whole (`billingAddress`)."
    )
    DELIVERY_ADDRESS = strawberry.enum_value(
        "delivery_address", description="The delivery address, as a whole (`deliveryAddress`)."
    )
    DATA_ENRICHED_AT = strawberry.enum_value(
        "data_enriched_at", description="When the data was last enriched (`dataEnrichedAt`)."
    )
    DATA_ENRICHMENT_SOURCE = strawberry.enum_value(
        "data_enrichment_source",
        description="Where enriched data came from (`dataEnrichmentSource`).",
    )
    NOTES = strawberry.enum_value("notes", description="The free-text notes (`notes`).")


@strawberry.enum(description="The fields of a contact whose value a merge chooses.")
class ContactMergeField(enum.Enum):
    SALUTATION = strawberry.enum_value(
        "salutation", description="The salutation, e.g. Frau or Herr (`salutation`)."
    )
    TITLE = strawberry.enum_value("title", description="The academic title, e.g. Dr. (`title`).")
    FIRST_NAME = strawberry.enum_value("first_name", description="The first name (`firstName`).")
    LAST_NAME = strawberry.enum_value("last_name", description="The last name (`lastName`).")
    POSITION = strawberry.enum_value("position", description="The job title (`position`).")
    DEPARTMENT = strawberry.enum_value("department", description="The department (`department`).")
    COMPANY_ID = strawberry.enum_value(
        "company_id", description="The company the person works for (`companyId`)."
    )
    STATUS = strawberry.enum_value("status", description="ACTIVE, INACTIVE or BLOCKED (`status`).")
    LINKEDIN_URL = strawberry.enum_value(
        "linkedin_url", description="The LinkedIn profile (`linkedinUrl`)."
    )
    BIRTHDAY = strawberry.enum_value("birthday", description="The birthday (`birthday`).")
    SOURCE = strawberry.enum_value("source", description="Where the contact came from (`source`).")
    NOTES = strawberry.enum_value("notes", description="The free-text notes (`notes`).")


@strawberry.input(description="The record (survivor or merged) whose value of `field` wins.")
class CompanyFieldChoice:
    field: CompanyMergeField = strawberry.field(description="The field to choose a value for.")
    from_id: strawberry.ID = strawberry.field(description=_FROM_ID)


@strawberry.input(description="The record (survivor or merged) whose value of `field` wins.")
class ContactFieldChoice:
    field: ContactMergeField = strawberry.field(description="The field to choose a value for.")
    from_id: strawberry.ID = strawberry.field(description=_FROM_ID)
