"""Admin-configurable lookup lists: industries, account types, relationship types."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field

from models.base import TenantOwned, tenant_unique


def _unique_name(table: str) -> sa.Index:
    """Lookup names are unique per tenant regardless of case."""
    return sa.Index(f"uq_{table}_tenant_id_name", "tenant_id", sa.text("lower(name)"), unique=True)


class Industry(TenantOwned, table=True):
    __tablename__ = "industry"
    __table_args__ = (
        tenant_unique(),
        _unique_name("industry"),
        sa.CheckConstraint("color ~ '^#[0-9A-Fa-f]{6}$'", name="color_hex"),
    )

    name: str = Field(max_length=100)
    color: str | None = Field(default=None, max_length=7)


class AccountType(TenantOwned, table=True):
    __tablename__ = "account_type"
    __table_args__ = (tenant_unique(), _unique_name("account_type"))

    name: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=500)


class RelationshipType(TenantOwned, table=True):
    __tablename__ = "relationship_type"
    __table_args__ = (tenant_unique(), _unique_name("relationship_type"))

    name: str = Field(max_length=100)
    # How the relationship reads from the target's side ("Tochter von" for "Mutter von").
    inverse_name: str | None = Field(default=None, max_length=100)
