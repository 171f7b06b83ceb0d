"""Cached Lexware Office vouchers (invoices, quotes, ...) and their links to deals."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field

from models.base import TenantOwned, TenantScoped, money, tenant_fk, tenant_unique


class LexwareVoucher(TenantOwned, table=True):
    __tablename__ = "lexware_voucher"
    __table_args__ = (
        tenant_unique(),
        tenant_fk("company_id", "company", ondelete="SET NULL"),
        tenant_fk("contact_id", "contact", ondelete="SET NULL"),
        sa.UniqueConstraint("tenant_id", "lexware_voucher_id"),
        sa.Index("ix_lexware_voucher_tenant_id_company_id", "tenant_id", "company_id"),
        sa.Index("ix_lexware_voucher_tenant_id_contact_id", "tenant_id", "contact_id"),
        sa.Index("ix_lexware_voucher_tenant_id_lexware_contact", "tenant_id", "lexware_contact_id"),
    )

    lexware_voucher_id: uuid.UUID
    voucher_type: str = Field(max_length=30)
    voucher_status: str = Field(max_length=30)
    voucher_number: str | None = Field(default=None, max_length=50)
    voucher_date: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    due_date: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    contact_name: str | None = Field(default=None, max_length=255)
    total_amount: Decimal | None = Field(default=None, sa_type=money())
    open_amount: Decimal | None = Field(default=None, sa_type=money())
    currency: str = Field(default="EUR", max_length=3, sa_column_kwargs={"server_default": "EUR"})
    lexware_contact_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    lexware_updated_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class DealVoucher(TenantOwned, table=True):
    __tablename__ = "deal_voucher"
    __table_args__ = (
        tenant_unique(),
        tenant_fk("deal_id", "deal", ondelete="CASCADE"),
        tenant_fk("voucher_id", "lexware_voucher", ondelete="CASCADE"),
        tenant_fk("linked_by_id", "user", ondelete="SET NULL"),
        sa.UniqueConstraint("tenant_id", "deal_id", "voucher_id"),
        sa.Index("ix_deal_voucher_tenant_id_voucher_id", "tenant_id", "voucher_id"),
        sa.Index("ix_deal_voucher_tenant_id_linked_by_id", "tenant_id", "linked_by_id"),
    )

    deal_id: uuid.UUID
    voucher_id: uuid.UUID
    linked_by_id: uuid.UUID | None = None
    linked_at: datetime | None = Field(
        default=None,
        sa_type=sa.DateTime(timezone=True),
        nullable=False,
        sa_column_kwargs={"server_default": sa.func.now()},
    )


class LexwareAccount(TenantScoped, table=True):
    """A tenant's own Lexware connection: its API key (encrypted at rest, never returned) and
    how far the voucher sync has come."""

    __tablename__ = "lexware_account"

    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE", primary_key=True)
    encrypted_api_key: str | None = Field(default=None, sa_type=sa.Text)
    key_hint: str | None = Field(default=None, max_length=8)  # last characters, for admins
    key_set_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    key_set_by_id: uuid.UUID | None = None
    vouchers_synced_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
