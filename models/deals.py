"""Sales pipelines with ordered stages, deals moving through them, and deal owners."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field

from models.base import (
    TenantOwned,
    TenantScoped,
    Trashable,
    Versioned,
    enum_type,
    money,
    tenant_fk,
    tenant_unique,
    trash_table_args,
)
from models.companies import owner_role_type
from models.enums import DealStatus, LostReason, OwnerRole, StageKind
from models.sort_keys import cents_column, key_index, rank_column, text_key_column


class Pipeline(TenantOwned, Versioned, table=True):
    __tablename__ = "pipeline"
    __table_args__ = (
        tenant_unique(),
        sa.Index("uq_pipeline_tenant_id_name", "tenant_id", sa.text("lower(name)"), unique=True),
        # One default pipeline per tenant.
        sa.Index(
            "uq_pipeline_tenant_id_default",
            "tenant_id",
            unique=True,
            postgresql_where=sa.text("is_default"),
        ),
        *(key_index("pipeline", key) for key in ("name_key", "created_at", "updated_at")),
    )

    name: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=500)
    is_default: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    name_key: str | None = text_key_column("name_key", "name")  # the NAME order's key


class PipelineStage(TenantOwned, table=True):
    __tablename__ = "pipeline_stage"
    __table_args__ = (
        tenant_unique(),
        # The key deals use, so a deal's stage always belongs to the deal's pipeline.
        sa.UniqueConstraint("id", "pipeline_id", "tenant_id"),
        tenant_fk("pipeline_id", "pipeline", ondelete="CASCADE"),
        sa.CheckConstraint("probability BETWEEN 0 AND 100", name="probability"),
        sa.Index("ix_pipeline_stage_tenant_id_pipeline_id", "tenant_id", "pipeline_id", "position"),
        sa.Index(
            "uq_pipeline_stage_pipeline_id_name",
            "tenant_id",
            "pipeline_id",
            sa.text("lower(name)"),
            unique=True,
        ),
    )

    pipeline_id: uuid.UUID
    name: str = Field(max_length=100)
    position: int = 0
    probability: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    kind: StageKind = Field(
        default=StageKind.OPEN,
        sa_type=enum_type(StageKind, "stage_kind"),
        sa_column_kwargs={"server_default": "OPEN"},
    )


class Deal(TenantOwned, Versioned, Trashable, table=True):
    __tablename__ = "deal"
    __table_args__ = (
        tenant_unique(),
        tenant_fk("pipeline_id", "pipeline", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["stage_id", "pipeline_id", "tenant_id"],
            ["pipeline_stage.id", "pipeline_stage.pipeline_id", "pipeline_stage.tenant_id"],
        ),
        tenant_fk("contact_id", "contact", ondelete="SET NULL"),
        tenant_fk("company_id", "company", ondelete="SET NULL"),
        sa.CheckConstraint("status <> 'LOST' OR lost_reason IS NOT NULL", name="lost_reason"),
        sa.CheckConstraint(
            "lost_reason IS DISTINCT FROM 'OTHER' OR lost_reason_text IS NOT NULL",
            name="lost_reason_text",
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency"),
        sa.CheckConstraint("value >= 0", name="value"),
        sa.Index("ix_deal_tenant_id_pipeline_id", "tenant_id", "pipeline_id", "stage_id"),
        sa.Index("ix_deal_tenant_id_stage_id", "tenant_id", "stage_id"),
        sa.Index("ix_deal_tenant_id_contact_id", "tenant_id", "contact_id"),
        sa.Index("ix_deal_tenant_id_company_id", "tenant_id", "company_id"),
        sa.Index("ix_deal_tenant_id_created_at", "tenant_id", "created_at", "id"),
        *(
            key_index("deal", key)
            for key in ("title_key", "value_cents", "status_rank", "updated_at", "closed_at")
        ),
        sa.Index("ix_deal_tenant_id_expected_close", "tenant_id", "expected_close_date", "id"),
        *trash_table_args("deal"),
    )

    title: str = Field(max_length=200)
    value: Decimal = Field(
        default=Decimal(0), sa_type=money(), sa_column_kwargs={"server_default": "0"}
    )
    currency: str = Field(default="EUR", max_length=3, sa_column_kwargs={"server_default": "EUR"})
    pipeline_id: uuid.UUID
    stage_id: uuid.UUID
    contact_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    expected_close_date: date | None = None
    status: DealStatus = Field(
        default=DealStatus.OPEN,
        sa_type=enum_type(DealStatus, "deal_status"),
        sa_column_kwargs={"server_default": "OPEN"},
    )
    lost_reason: LostReason | None = Field(
        default=None, sa_type=enum_type(LostReason, "lost_reason")
    )
    lost_reason_text: str | None = Field(default=None, max_length=500)
    closed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    # The open stage a WON/LOST deal was in when it closed: reopening returns it there (if
    # that stage is still an open stage of its pipeline). No foreign key: a stage removed or
    # re-kinded since is simply not found, and the deal goes to the first open stage.
    last_open_stage_id: uuid.UUID | None = None
    # The list's sort keys (models.sort_keys).
    title_key: str | None = text_key_column("title_key", "title")
    value_cents: int | None = cents_column("value_cents", "value")
    status_rank: int | None = rank_column("status_rank", "status", DealStatus)


class DealOwner(TenantOwned, table=True):
    __tablename__ = "deal_owner"
    __table_args__ = (
        tenant_unique(),
        tenant_fk("deal_id", "deal", ondelete="CASCADE"),
        tenant_fk("user_id", "user", ondelete="CASCADE"),
        sa.UniqueConstraint("tenant_id", "deal_id", "user_id"),
        sa.Index("ix_deal_owner_tenant_id_user_id", "tenant_id", "user_id"),
    )

    deal_id: uuid.UUID
    user_id: uuid.UUID
    role: OwnerRole = Field(
        default=OwnerRole.OWNER,
        sa_type=owner_role_type,
        sa_column_kwargs={"server_default": "OWNER"},
    )


class StageFigure(TenantScoped, table=True):
    """What the board summary adds up, kept by the database as deals change (alembic 0020's
    triggers; no service writes it): per stage and currency, the live deals' count, value sum
    and probability-weighted sum (each deal's `round(value * probability / 100, 2)`). One
    (stage, currency) has as many rows as writers ever held one at the same time: a writer
    adds to a row no other transaction holds, or starts a new one, so writes into one stage
    never wait for each other. A reader sums the rows."""

    __tablename__ = "stage_figure"
    __table_args__ = (
        tenant_fk("stage_id", "pipeline_stage", ondelete="CASCADE"),
        sa.Index("ix_stage_figure_tenant_id_stage_id", "tenant_id", "stage_id", "currency"),
    )

    id: uuid.UUID = Field(
        default_factory=uuid.uuid4,
        primary_key=True,
        sa_column_kwargs={"server_default": sa.text("gen_random_uuid()")},
    )
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE", nullable=False)
    stage_id: uuid.UUID
    currency: str = Field(max_length=3)
    deal_count: int = Field(default=0, sa_type=sa.BigInteger)
    # Sums of NUMERIC(14,2) values: scale 2 as theirs, room for a million deals at the maximum.
    value_sum: Decimal = Field(default=Decimal(0), sa_type=sa.Numeric(30, 2, asdecimal=True))
    weighted_sum: Decimal = Field(default=Decimal(0), sa_type=sa.Numeric(30, 2, asdecimal=True))
