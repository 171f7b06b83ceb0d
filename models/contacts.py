"""Contact persons and their owners."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field

from models.base import (
    READ_APART,
    TenantOwned,
    Trashable,
    Versioned,
    enum_type,
    search_name_column,
    string_list,
    tag_keys_check,
    tag_keys_column,
    tag_keys_index,
    tenant_fk,
    tenant_unique,
    trash_table_args,
)
from models.companies import entity_status_type, lexware_link_indexes, owner_role_type
from models.enums import ContactSource, EntityStatus, OwnerRole
from models.sort_keys import key_index, rank_column, text_key_column

# The NAME order: last name, then first name, ignoring case (one text, so one key).
FULL_NAME = "(last_name || ' ') || coalesce(first_name, '')"


class Contact(TenantOwned, Versioned, Trashable, table=True):
    __tablename__ = "contact"
    __table_args__ = (
        tenant_unique(),
        tenant_fk("company_id", "company", ondelete="SET NULL"),
        sa.Index("ix_contact_tenant_id_created_at", "tenant_id", "created_at", "id"),
        *(
            key_index("contact", key)
            for key in (
                "name_key",
                "updated_at",
                "first_name_key",
                "last_name_key",
                "status_rank",
                "position_key",
                "department_key",
                "birthday",
            )
        ),
        sa.Index("ix_contact_tenant_id_company_id", "tenant_id", "company_id"),
        key_index("contact", "source_rank"),  # a filter's (source is no sort)
        tag_keys_check(),
        tag_keys_index("contact"),
        *lexware_link_indexes("contact"),
        *trash_table_args("contact"),
    )

    salutation: str | None = Field(default=None, max_length=50)
    title: str | None = Field(default=None, max_length=50)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str = Field(max_length=100)
    position: str | None = Field(default=None, max_length=100)
    department: str | None = Field(default=None, max_length=100)
    company_id: uuid.UUID | None = None
    status: EntityStatus = Field(
        default=EntityStatus.ACTIVE,
        sa_type=entity_status_type,
        sa_column_kwargs={"server_default": "ACTIVE"},
    )
    linkedin_url: str | None = Field(default=None, max_length=500)
    birthday: date | None = None
    source: ContactSource | None = Field(
        default=None, sa_type=enum_type(ContactSource, "contact_source")
    )
    tags: list[str] = string_list()
    tag_keys: list[str] | None = tag_keys_column()
    search_name: str | None = search_name_column("crm_fold(crm_person(first_name, last_name))")
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
    # The list's sort keys (models.sort_keys).
    name_key: str | None = text_key_column("name_key", FULL_NAME)
    first_name_key: str | None = text_key_column("first_name_key", "first_name")
    last_name_key: str | None = text_key_column("last_name_key", "last_name")
    position_key: str | None = text_key_column("position_key", "position")
    department_key: str | None = text_key_column("department_key", "department")
    status_rank: int | None = rank_column("status_rank", "status", EntityStatus)
    # A filter's leakproof form (source is no sort).
    source_rank: int | None = rank_column("source_rank", "source", ContactSource)


class ContactOwner(TenantOwned, table=True):
    __tablename__ = "contact_owner"
    __table_args__ = (
        tenant_unique(),
        tenant_fk("contact_id", "contact", ondelete="CASCADE"),
        tenant_fk("user_id", "user", ondelete="CASCADE"),
        sa.UniqueConstraint("tenant_id", "contact_id", "user_id"),
        sa.Index("ix_contact_owner_tenant_id_user_id", "tenant_id", "user_id"),
    )

    contact_id: uuid.UUID
    user_id: uuid.UUID
    role: OwnerRole = Field(
        default=OwnerRole.OWNER,
        sa_type=owner_role_type,
        sa_column_kwargs={"server_default": "OWNER"},
    )
