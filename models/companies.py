"""Companies, their owners, company-to-company relationships and contracts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field

from models.base import (
    READ_APART,
    TenantOwned,
    Trashable,
    Versioned,
    derived_text_column,
    enum_type,
    money,
    search_name_column,
    string_list,
    tag_keys_check,
    tag_keys_column,
    tag_keys_index,
    tenant_fk,
    tenant_unique,
    trash_table_args,
)
from models.enums import CompanySize, ContractStatus, EntityStatus, OwnerRole
from models.identifier_checks import checked_column, unchecked_index
from models.sort_keys import cents_column, key_index, rank_column, text_key_column

entity_status_type = enum_type(EntityStatus, "entity_status")
owner_role_type = enum_type(OwnerRole, "owner_role")


def lexware_link_indexes(table: str) -> tuple[sa.Index, ...]:
    """One Lexware contact links to at most one live record of a kind per tenant: a trashed
    record keeps its link (restored with it) without holding it against another record;
    restoring it then is a CONFLICT naming the record that holds it."""
    return (
        sa.Index(
            f"uq_{table}_tenant_id_lexware_contact_id",
            "tenant_id",
            "lexware_contact_id",
            unique=True,
            postgresql_where=sa.text("lexware_contact_id IS NOT NULL AND deleted_at IS NULL"),
        ),
    )


class Company(TenantOwned, Versioned, Trashable, table=True):
    __tablename__ = "company"
    __table_args__ = (
        tenant_unique(),
        tenant_fk("industry_id", "industry", ondelete="SET NULL"),
        tenant_fk("account_type_id", "account_type", ondelete="SET NULL"),
        sa.Index("ix_company_tenant_id_created_at", "tenant_id", "created_at", "id"),
        sa.Index("ix_company_tenant_id_updated_at", "tenant_id", "updated_at", "id"),
        *(key_index("company", key) for key in ("name_key", "status_rank", "company_size_rank")),
        sa.Index("ix_company_tenant_id_industry_id", "tenant_id", "industry_id"),
        sa.Index("ix_company_tenant_id_account_type_id", "tenant_id", "account_type_id"),
        sa.Index("ix_company_tenant_id_vat_id", "tenant_id", "vat_id"),
        tag_keys_check(),
        tag_keys_index("company"),
        *lexware_link_indexes("company"),
        *trash_table_args("company"),
        unchecked_index("company"),
    )

    name: str = Field(max_length=200)
    website: str | None = Field(default=None, max_length=500)
    industry_id: uuid.UUID | None = None
    account_type_id: uuid.UUID | None = None
    status: EntityStatus = Field(
        default=EntityStatus.ACTIVE,
        sa_type=entity_status_type,
        sa_column_kwargs={"server_default": "ACTIVE"},
    )
    vat_id: str | None = Field(default=None, max_length=20)
    tax_id: str | None = Field(default=None, max_length=30)
    trade_register_number: str | None = Field(default=None, max_length=50)
    register_court: str | None = Field(default=None, max_length=100)
    company_size: CompanySize | None = Field(
        default=None, sa_type=enum_type(CompanySize, "company_size")
    )
    billing_address: dict[str, Any] | None = Field(default=None, sa_type=postgresql.JSONB)
    delivery_address: dict[str, Any] | None = Field(default=None, sa_type=postgresql.JSONB)
    data_enriched_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    data_enrichment_source: str | None = Field(default=None, max_length=100)
    tags: list[str] = string_list()
    tag_keys: list[str] | None = tag_keys_column()
    search_name: str | None = search_name_column("crm_fold(name)")
    notes: str | None = Field(default=None, sa_type=sa.Text)
    lexware_contact_id: uuid.UUID | None = None
    lexware_contact_version: int | None = None
    lexware_synced_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    # Both sides' mapped Lexware fields as last synced ({"crm": ..., "lexware": ...}): the
    # base of a push's three-way merge. Read apart (models.base.READ_APART): only
    # the push needs it, so ordinary reads of the record do not carry it.
    lexware_synced_values: dict[str, Any] | None = Field(
        default=None, sa_type=postgresql.JSONB, sa_column_kwargs={"info": {READ_APART: True}}
    )
    identifiers_checked: str | None = checked_column()  # models.identifier_checks
    # The name as duplicates compare it: folded, legal forms and punctuation off (migration
    # 0018, `crm_name_key`), stored for its indexes (models/duplicates.py).
    dedupe_name: str | None = derived_text_column("dedupe_name", "crm_name_key(name)")
    # The list's sort keys (models.sort_keys).
    name_key: str | None = text_key_column("name_key", "name")
    status_rank: int | None = rank_column("status_rank", "status", EntityStatus)
    company_size_rank: int | None = rank_column("company_size_rank", "company_size", CompanySize)


class CompanyOwner(TenantOwned, table=True):
    __tablename__ = "company_owner"
    __table_args__ = (
        tenant_unique(),
        tenant_fk("company_id", "company", ondelete="CASCADE"),
        tenant_fk("user_id", "user", ondelete="CASCADE"),
        sa.UniqueConstraint("tenant_id", "company_id", "user_id"),
        sa.Index("ix_company_owner_tenant_id_user_id", "tenant_id", "user_id"),
    )

    company_id: uuid.UUID
    user_id: uuid.UUID
    role: OwnerRole = Field(
        default=OwnerRole.OWNER,
        sa_type=owner_role_type,
        sa_column_kwargs={"server_default": "OWNER"},
    )


class CompanyRelationship(TenantOwned, table=True):
    __tablename__ = "company_relationship"
    __table_args__ = (
        tenant_unique(),
        tenant_fk("from_company_id", "company", ondelete="CASCADE"),
        tenant_fk("to_company_id", "company", ondelete="CASCADE"),
        tenant_fk("relationship_type_id", "relationship_type", ondelete="RESTRICT"),
        sa.CheckConstraint("from_company_id <> to_company_id", name="not_self"),
        sa.Index(
            "uq_company_relationship_pair_type",
            "tenant_id",
            sa.text("least(from_company_id, to_company_id)"),
            sa.text("greatest(from_company_id, to_company_id)"),
            "relationship_type_id",
            unique=True,
        ),
        sa.Index("ix_company_relationship_tenant_id_from", "tenant_id", "from_company_id"),
        sa.Index("ix_company_relationship_tenant_id_to", "tenant_id", "to_company_id"),
        sa.Index("ix_company_relationship_tenant_id_type", "tenant_id", "relationship_type_id"),
    )

    from_company_id: uuid.UUID
    to_company_id: uuid.UUID
    relationship_type_id: uuid.UUID
    notes: str | None = Field(default=None, max_length=2000)


class Contract(TenantOwned, Versioned, Trashable, table=True):
    __tablename__ = "contract"
    __table_args__ = (
        tenant_unique(),
        tenant_fk("company_id", "company", ondelete="CASCADE"),
        sa.CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="dates"
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency"),
        sa.Index("ix_contract_tenant_id_company_id", "tenant_id", "company_id"),
        *(
            key_index("contract", key)
            for key in (
                "end_date",
                "created_at",
                "updated_at",
                "start_date",
                "title_key",
                "value_cents",
                "status_rank",
            )
        ),
        *trash_table_args("contract"),
    )

    company_id: uuid.UUID
    title: str = Field(max_length=200)
    number: str | None = Field(default=None, max_length=50)
    start_date: date | None = None
    end_date: date | None = None
    value: Decimal | None = Field(default=None, sa_type=money())
    currency: str = Field(default="EUR", max_length=3, sa_column_kwargs={"server_default": "EUR"})
    status: ContractStatus = Field(
        default=ContractStatus.DRAFT,
        sa_type=enum_type(ContractStatus, "contract_status"),
        sa_column_kwargs={"server_default": "DRAFT"},
    )
    notes: str | None = Field(default=None, sa_type=sa.Text)
    # The list's sort keys (models.sort_keys).
    title_key: str | None = text_key_column("title_key", "title")
    value_cents: int | None = cents_column("value_cents", "value")
    status_rank: int | None = rank_column("status_rank", "status", ContractStatus)
