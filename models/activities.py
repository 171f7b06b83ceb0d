"""Activities: notes, calls, e-mails, meetings, tasks and follow-ups."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from models.base import (
    TenantOwned,
    Trashable,
    Versioned,
    enum_type,
    tenant_fk,
    tenant_unique,
    trash_table_args,
)
from models.enums import ActivityType
from models.leakproof import key_index, rank_column


class Activity(TenantOwned, Versioned, Trashable, table=True):
    """Linked to a contact and/or a company (at least one, checked by the service on write:
    a database check would forbid the SET NULL that deleting the contact or company does)."""

    __tablename__ = "activity"
    __table_args__ = (
        tenant_unique(),
        tenant_fk("contact_id", "contact", ondelete="SET NULL"),
        tenant_fk("company_id", "company", ondelete="SET NULL"),
        tenant_fk("deal_id", "deal", ondelete="SET NULL"),
        tenant_fk("assignee_id", "user", ondelete="SET NULL"),
        sa.Index("ix_activity_tenant_id_contact_id", "tenant_id", "contact_id"),
        sa.Index("ix_activity_tenant_id_company_id", "tenant_id", "company_id"),
        sa.Index("ix_activity_tenant_id_deal_id", "tenant_id", "deal_id"),
        sa.Index("ix_activity_tenant_id_assignee_id", "tenant_id", "assignee_id"),
        sa.Index("ix_activity_tenant_id_created_at", "tenant_id", "created_at", "id"),
        key_index("activity", "type_rank"),
        key_index("activity", "due_at"),
        sa.Index(
            "ix_activity_open_due_at",
            "due_at",
            postgresql_where=sa.text("completed_at IS NULL AND due_at IS NOT NULL"),
        ),
        # The roll-ups of companies and contacts (app/services/rollups): a record's latest
        # completion and earliest open due date, each the first entry of its range.
        *(
            sa.Index(
                f"ix_activity_{link}_{column}",
                "tenant_id",
                link,
                column,
                postgresql_where=sa.text(where),
            )
            for link in ("company_id", "contact_id")
            for column, where in (
                ("completed_at", "completed_at IS NOT NULL"),
                ("due_at", "completed_at IS NULL AND due_at IS NOT NULL"),
            )
        ),
        *trash_table_args("activity"),
    )

    type: ActivityType = Field(sa_type=enum_type(ActivityType, "activity_type"))
    subject: str = Field(max_length=200)
    body: str | None = Field(default=None, sa_type=sa.Text)
    due_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    completed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    assignee_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None
    # The due date a due-soon reminder went out for: moving `due_at` re-arms the reminder.
    reminded_due_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    type_rank: int | None = rank_column("type", ActivityType)  # models.leakproof (issue 25)
