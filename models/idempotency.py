"""Idempotency keys of mutation requests (the `Idempotency-Key` HTTP header).

One row per tenant, user and key: the fingerprint of the request it was first used with, the
attempt that holds it (a fencing token: only that attempt may mark it committed or store its
response), and the response once it is complete. `state` moves from `running` (claimed, its
lease alive until `lease_expires_at`) to `committed` (set in the mutation's own transaction)
to `done` (the response stored). app/services/idempotency says what each state means to a
repeat.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field

from models.base import TenantScoped, tenant_fk

STATES = ("running", "committed", "done")


class IdempotencyKey(TenantScoped, table=True):
    __tablename__ = "idempotency_key"
    __table_args__ = (
        sa.CheckConstraint(f"state IN {STATES!r}", name="state"),
        sa.CheckConstraint("(state = 'done') = (response_status IS NOT NULL)", name="response"),
        tenant_fk("user_id", "user", ondelete="CASCADE"),
        sa.Index("ix_idempotency_key_expires_at", "expires_at"),  # the purge
    )

    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE", primary_key=True)
    user_id: uuid.UUID = Field(primary_key=True)
    key: str = Field(primary_key=True, max_length=255)
    fingerprint: bytes = Field(sa_type=postgresql.BYTEA)  # sha256 of the request
    operation: str | None = Field(default=None, max_length=200)  # for operators
    state: str = Field(max_length=10)
    attempt: uuid.UUID
    lease_expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    created_at: datetime | None = Field(
        default=None,
        sa_type=sa.DateTime(timezone=True),
        nullable=False,
        sa_column_kwargs={"server_default": sa.func.now()},
    )
    response_status: int | None = Field(default=None, sa_type=sa.SmallInteger)
    response_headers: dict[str, Any] | None = Field(default=None, sa_type=postgresql.JSONB)
    response_body: bytes | None = Field(default=None, sa_type=postgresql.BYTEA)
