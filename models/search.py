"""What search reads: `search_entry`, a view with one row per searchable value of a record.

The view (migration 0014) is a `UNION ALL` of one branch per (table, field): a company's
name, identifiers, website domain, cities and tags, the e-mail addresses and phone numbers
of companies and contacts, a contact's name and tags, a deal's title, an activity's subject
and body, a contract's title and number. Each branch reads its table with an explicit tenant
condition on `app.tenant_id` (the setting the row-level security policies use) and exposes
`folded`, the expression a trigram GIN index of that table is built on, so a condition on
`folded` pushed into the branch is an index condition. Why a view and not the tables under
their policies: docs/ARCHITECTURE.md section 14 (trigram and full-text operators are not
leakproof, so under a policy they filter the tenant's rows one by one).

Mapped as a `TenantScoped` model so the tenant filter of every read (`app.data.tenant_filter`)
reaches it as it reaches the tables; `VIEW` in its table's info keeps it out of the
comparisons of tables with migrations and of the tables' policies (tests/test_model.py checks
its columns against the view's).
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field

from models.activities import Activity
from models.base import TenantScoped
from models.companies import Company, Contract
from models.contact_info import ContactEmail, ContactPhone
from models.contacts import Contact
from models.deals import Deal

VIEW = "view"  # Table.info key: a view mapped for reading, not a table


def is_view(table: sa.Table) -> bool:
    return bool(table.info.get(VIEW))


def real_tables(metadata: sa.MetaData) -> list[sa.Table]:
    """The metadata's tables, its views left out."""
    return [table for table in metadata.sorted_tables if not is_view(table)]


def not_a_view(
    item: object, _name: str | None, kind: str, _reflected: bool, _other: object
) -> bool:
    """alembic's `include_object`: a view is no table to create or compare."""
    return not (kind == "table" and isinstance(item, sa.Table) and is_view(item))


class SearchEntry(TenantScoped, table=True):
    """One searchable value: `body` as stored (for highlighting), `folded` as matched
    (`crm_fold`, `crm_compact`, `crm_digits` or `crm_domain` of it), `document` the
    full-text vector of an activity's body (NULL elsewhere, as `folded` is there)."""

    __tablename__ = "search_entry"
    __table_args__ = {"info": {VIEW: True}}

    tenant_id: uuid.UUID = Field(nullable=False)  # a view: no foreign key
    kind: str = Field(primary_key=True)
    record_id: uuid.UUID = Field(primary_key=True)
    field: str = Field(primary_key=True)
    body: str = Field(primary_key=True)
    folded: str | None = None
    document: str | None = Field(default=None, sa_type=postgresql.TSVECTOR)


def _trigram(name: str, expression: sa.ColumnElement[str]) -> sa.Index:
    label = f"{name}_expr"
    return sa.Index(
        name,
        expression.label(label),
        postgresql_using="gin",
        postgresql_ops={label: "gin_trgm_ops"},
    )


def _fold(column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    return sa.func.crm_fold(column)


def _search_indexes() -> list[sa.Index]:
    company, contact = Company.__table__.c, Contact.__table__.c  # type: ignore[attr-defined]
    tags = postgresql.ARRAY(sa.Text())
    return [
        _trigram("ix_company_search_name", company.search_name),
        _trigram("ix_company_search_vat_id", sa.func.crm_compact(company.vat_id)),
        _trigram("ix_company_search_tax_id", sa.func.crm_compact(company.tax_id)),
        _trigram("ix_company_search_register", sa.func.crm_compact(company.trade_register_number)),
        _trigram("ix_company_search_website", sa.func.crm_domain(company.website)),
        _trigram(
            "ix_company_search_billing_city", _fold(company.billing_address.op("->>")("city"))
        ),
        _trigram(
            "ix_company_search_delivery_city", _fold(company.delivery_address.op("->>")("city"))
        ),
        _trigram("ix_company_search_tags", _fold(sa.func.crm_words(sa.cast(company.tags, tags)))),
        _trigram("ix_contact_search_name", contact.search_name),
        _trigram("ix_contact_search_tags", _fold(sa.func.crm_words(sa.cast(contact.tags, tags)))),
        _trigram("ix_contact_email_search", _fold(ContactEmail.__table__.c.email)),  # type: ignore[attr-defined]
        _trigram("ix_contact_phone_search", sa.func.crm_digits(ContactPhone.__table__.c.phone)),  # type: ignore[attr-defined]
        _trigram("ix_deal_search_title", _fold(Deal.__table__.c.title)),  # type: ignore[attr-defined]
        _trigram("ix_activity_search_subject", _fold(Activity.__table__.c.subject)),  # type: ignore[attr-defined]
        _trigram("ix_contract_search_title", _fold(Contract.__table__.c.title)),  # type: ignore[attr-defined]
        _trigram("ix_contract_search_number", sa.func.crm_compact(Contract.__table__.c.number)),  # type: ignore[attr-defined]
    ]


def _body_document_index() -> sa.Index:
    """An activity's body by full text: words, not trigrams, for long text."""
    activity = Activity.__table__  # type: ignore[attr-defined]
    simple: sa.ColumnElement[str] = sa.literal_column("'simple'::regconfig")
    index = sa.Index(
        "ix_activity_search_body",
        sa.func.to_tsvector(simple, _fold(activity.c.body)),
        postgresql_using="gin",
    )
    activity.append_constraint(index)  # the expression's first element names no column
    return index


SEARCH_INDEXES = [*_search_indexes(), _body_document_index()]

__all__ = ["SEARCH_INDEXES", "VIEW", "SearchEntry", "is_view", "not_a_view", "real_tables"]
