"""Tenants and their members; both are provisioned just in time from verified tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

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
    """A member of a tenant as the auth service knows them (`sub` of the token), or one an
    admin added by e-mail who has not signed in yet: no subject until the first token of the
    tenant with that e-mail (app.services.members.service) binds its subject to this row."""

    __tablename__ = "user"
    __table_args__ = (
        tenant_unique(),
        sa.UniqueConstraint("tenant_id", "subject"),
        sa.Index("ix_user_tenant_id_email", "tenant_id", sa.text("lower(email)")),
        # One waiting user per e-mail: the first sign-in with it must know whom it becomes.
        sa.Index(
            "uq_user_tenant_id_waiting_email",
            "tenant_id",
            sa.text("lower(email)"),
            unique=True,
            postgresql_where=sa.text("subject IS NULL"),
        ),
        sa.CheckConstraint("(subject IS NULL) = (signed_in_at IS NULL)", name="signed_in"),
        sa.CheckConstraint("subject IS NOT NULL OR email IS NOT NULL", name="reachable"),
    )

    subject: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=200)
    # The first sign-in; None: added by an admin, not signed in yet.
    signed_in_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class RevokedToken(SQLModel, table=True):
    """A revoked token, by its auth service's (issuer, jti) (system table: no tenant policy,
    read by every process's view of revocations, app/revocations.py)."""

    __tablename__ = "revoked_token"

    issuer: str = Field(primary_key=True, sa_type=sa.Text)  # "" for a token without `iss`
    jti: str = Field(primary_key=True, sa_type=sa.Text)
    tenant_slug: str = Field(max_length=63)
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)
    revoked_at: datetime = Field(
        sa_type=sa.DateTime(timezone=True),
        index=True,
        sa_column_kwargs={"server_default": sa.func.now()},
    )
