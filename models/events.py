"""The event outbox: every committed change of a tenant's data, numbered per tenant.

`seq` comes from the tenant's row in `event_counter`, taken at commit time under that row's
lock, so a tenant's events commit in `seq` order without gaps: a subscriber that has seen
event n and next sees n + 2 knows exactly what it missed. The relay records in `event_relay`
how far each tenant's events have gone out to Redis.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from models.base import TenantScoped


class CrmEvent(TenantScoped, table=True):
    __tablename__ = "crm_event"
    __table_args__ = (
        sa.Index("ix_crm_event_tenant_id_entity_id_seq", "tenant_id", "entity_id", "seq"),
    )

    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE", primary_key=True)
    seq: int = Field(
        primary_key=True, sa_type=sa.BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    type: str = Field(max_length=80)
    entity: str = Field(max_length=40)
    entity_id: uuid.UUID
    actor_id: uuid.UUID | None = None
    occurred_at: datetime = Field(
        sa_type=sa.DateTime(timezone=True), sa_column_kwargs={"server_default": sa.func.now()}
    )
    changes: dict[str, Any] = Field(
        default_factory=dict,
        sa_type=postgresql.JSONB,
        sa_column_kwargs={"server_default": sa.text("'{}'::jsonb")},
    )
    # The request (or job, or cron run) that caused it, for the operator's logs.
    request_id: str | None = Field(default=None, sa_type=sa.Text)
    # W3C trace context of the request that caused it (only while tracing is on, else NULL).
    traceparent: str | None = Field(default=None, max_length=55)


class EventCounter(SQLModel, table=True):
    """The last `seq` handed out per tenant (system table, written by the outbox only)."""

    __tablename__ = "event_counter"

    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE", primary_key=True)
    last_seq: int = Field(default=0, sa_type=sa.BigInteger)


class EventRelay(SQLModel, table=True):
    """How far each tenant's events have been published to Redis (system table)."""

    __tablename__ = "event_relay"

    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE", primary_key=True)
    published_seq: int = Field(default=0, sa_type=sa.BigInteger)
