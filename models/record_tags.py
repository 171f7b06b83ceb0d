"""A record's tags one row each, for the lists' `tag` filter (issue 25).

`tag_keys @> ARRAY[key]` (models.base.tag_keys_column, a GIN index) is no index condition
under row-level security: array operators are not leakproof, so a tenant's `tag` filter read
every row of the tenant. Here each (record, tag key) is a row, and the filter is
`id IN (SELECT company_id FROM company_tag WHERE tag_key = $1)`: text equality, leakproof, an
index condition on (tenant_id, tag_key, company_id).

PostgreSQL keeps these rows itself (migration 0022's trigger on `tag_keys`, a security
definer: whatever writes the tags, the services, a merge, COPY, the rows follow; tenants may
only read them), and a record's removal cascades. A trashed record keeps its rows: the list's
own trash filter hides the record. Never a record's value, never written by the services.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import Field

from models.base import TenantScoped, tenant_fk

TAGGED = ("company", "contact")  # the tables with tags, each with its `<table>_tag`


def _lookup(table: str) -> tuple[sa.Index, ...]:
    return (sa.Index(f"ix_{table}_tag_tenant_id_tag_key", "tenant_id", "tag_key", f"{table}_id"),)


class CompanyTag(TenantScoped, table=True):
    __tablename__ = "company_tag"
    __table_args__ = (tenant_fk("company_id", "company", ondelete="CASCADE"), *_lookup("company"))

    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE", primary_key=True)
    company_id: uuid.UUID = Field(primary_key=True)
    tag_key: str = Field(primary_key=True, sa_type=sa.Text())


class ContactTag(TenantScoped, table=True):
    __tablename__ = "contact_tag"
    __table_args__ = (tenant_fk("contact_id", "contact", ondelete="CASCADE"), *_lookup("contact"))

    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE", primary_key=True)
    contact_id: uuid.UUID = Field(primary_key=True)
    tag_key: str = Field(primary_key=True, sa_type=sa.Text())
