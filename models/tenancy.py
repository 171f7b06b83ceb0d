"""Tenants and their members; both are provisioned just in time from verified tokens."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import Field

from models.base import TenantOwned, Timestamped, tenant_unique


class Tenant(Timestamped, table=True):
    __tablename__ = "tenant"

    id: uuid.UUID = Field(
        default_factory=uuid.uuid4,
        primary_key=True,
        sa_column_kwargs={"server_default": sa.text("gen_random_uuid()")},
    )
    slug: str = Field(max_length=63, unique=True)
    name: str = Field(max_length=200)


class User(TenantOwned, table=True):
    """A member of a tenant as the auth service knows them (`sub` of the token)."""

    __tablename__ = "user"
    __table_args__ = (
        tenant_unique(),
        sa.UniqueConstraint("tenant_id", "subject"),
        sa.Index("ix_user_tenant_id_email", "tenant_id", sa.text("lower(email)")),
    )

    subject: str = Field(max_length=255)
    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=200)
