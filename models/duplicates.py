"""What duplicate checks read: `duplicate_key`, a view with one row per value a duplicate
rule compares (migration 0018), and the indexes its branches use.

Each branch reads its table with an explicit tenant condition on `app.tenant_id`, as
`search_entry` does (models/search.py): `key` is the expression an index of that table is
built on, so a condition on `key` pushed into the branch is an index condition, which under
the tables' row-level security it could not be (`lower()`, `crm_domain()` and the trigram
operators are not leakproof). Mapped as a `TenantScoped` model so the tenant filter of every
read reaches it too.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import Field

from models.base import TenantScoped
from models.companies import Company
from models.contact_info import ContactEmail, ContactPhone
from models.contacts import Contact
from models.search import VIEW


class DuplicateKey(TenantScoped, table=True):
    """One compared value: `rule` (VAT_ID, EMAIL, PHONE, WEBSITE_DOMAIN, NAME_AND_POSTCODE,
    SIMILAR_NAME, NAME_AND_COMPANY) of a record of `kind` (company, contact), `value` as
    stored, `key` as compared."""

    __tablename__ = "duplicate_key"
    __table_args__ = {"info": {VIEW: True}}

    tenant_id: uuid.UUID = Field(nullable=False)  # a view: no foreign key
    kind: str = Field(primary_key=True)
    rule: str = Field(primary_key=True)
    record_id: uuid.UUID = Field(primary_key=True)
    value: str = Field(primary_key=True)
    key: str


def _indexes() -> list[sa.Index]:
    company, contact = Company.__table__.c, Contact.__table__.c  # type: ignore[attr-defined]
    phone = ContactPhone.__table__.c  # type: ignore[attr-defined]
    email = ContactEmail.__table__.c  # type: ignore[attr-defined]
    space: sa.ColumnElement[str] = sa.literal_column("' '")
    postcode = company.dedupe_name.op("||")(space).op("||")(
        company.billing_address.op("->>")(sa.literal_column("'zip'"))
    )
    company_id: sa.ColumnElement[str] = sa.literal_column("company_id::text")
    person = contact.search_name.op("||")(space).op("||")(company_id)
    return [
        sa.Index(
            "ix_contact_phone_company_e164",
            phone.tenant_id,
            phone.e164,
            postgresql_where=phone.company_id.isnot(None),
        ),
        sa.Index(
            "ix_contact_phone_contact_e164",
            phone.tenant_id,
            phone.e164,
            postgresql_where=phone.contact_id.isnot(None),
        ),
        sa.Index(
            "ix_contact_email_company_value",
            email.tenant_id,
            sa.func.lower(email.email),
            postgresql_where=email.company_id.isnot(None),
        ),
        sa.Index("ix_company_tenant_id_dedupe_name", company.tenant_id, company.dedupe_name),
        sa.Index("ix_contact_tenant_id_search_name", contact.tenant_id, contact.search_name),
        sa.Index(
            "ix_company_dedupe_name",
            company.dedupe_name,
            postgresql_using="gin",
            postgresql_ops={"dedupe_name": "gin_trgm_ops"},
        ),
        sa.Index("ix_company_tenant_id_name_postcode", company.tenant_id, postcode),
        sa.Index(
            "ix_company_tenant_id_domain", company.tenant_id, sa.func.crm_domain(company.website)
        ),
        sa.Index("ix_contact_tenant_id_name_company", contact.tenant_id, person),
    ]


DUPLICATE_INDEXES = _indexes()

__all__ = ["DUPLICATE_INDEXES", "DuplicateKey"]
