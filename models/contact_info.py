"""Multi-value e-mail addresses and phone numbers of contacts and companies.

Each row belongs to exactly one contact or one company; one primary value per owner;
the same value is never stored twice for one owner.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.schema import SchemaItem
from sqlmodel import Field

from models.base import TenantOwned, enum_type, tenant_fk, tenant_unique
from models.enums import EmailType, PhoneType
from models.identifier_checks import checked_column, unchecked_index

OWNER_COLUMNS = ("contact_id", "company_id")


def _owned_by_one(table: str, value_sql: str) -> tuple[SchemaItem, ...]:
    items: list[SchemaItem] = [
        tenant_unique(),
        tenant_fk("contact_id", "contact", ondelete="CASCADE"),
        tenant_fk("company_id", "company", ondelete="CASCADE"),
        sa.CheckConstraint("num_nonnulls(contact_id, company_id) = 1", name="one_owner"),
    ]
    for owner in OWNER_COLUMNS:
        present = sa.text(f"{owner} IS NOT NULL")
        items += [
            # The owner's values by owner id (the lists of a page of contacts): the partial
            # unique indexes below are wider, and PostgreSQL chose a sequential scan over them.
            sa.Index(f"ix_{table}_tenant_id_{owner}", "tenant_id", owner),
            sa.Index(
                f"uq_{table}_{owner}_value",
                "tenant_id",
                owner,
                sa.text(value_sql),
                unique=True,
                postgresql_where=present,
            ),
            sa.Index(
                f"uq_{table}_{owner}_primary",
                "tenant_id",
                owner,
                unique=True,
                postgresql_where=sa.text(f"is_primary AND {owner} IS NOT NULL"),
            ),
        ]
    items.append(sa.Index(f"ix_{table}_tenant_id_value", "tenant_id", sa.text(value_sql)))
    return tuple(items)


class ContactEmail(TenantOwned, table=True):
    __tablename__ = "contact_email"
    __table_args__ = (
        *_owned_by_one("contact_email", "lower(email)"),
        unchecked_index("contact_email"),
    )

    contact_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    type: EmailType = Field(
        default=EmailType.WORK,
        sa_type=enum_type(EmailType, "email_type"),
        sa_column_kwargs={"server_default": "WORK"},
    )
    email: str = Field(max_length=320)
    is_primary: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    identifiers_checked: str | None = checked_column()  # models.identifier_checks


class ContactPhone(TenantOwned, table=True):
    __tablename__ = "contact_phone"
    __table_args__ = (*_owned_by_one("contact_phone", "phone"), unchecked_index("contact_phone"))

    contact_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    type: PhoneType = Field(
        default=PhoneType.OFFICE,
        sa_type=enum_type(PhoneType, "phone_type"),
        sa_column_kwargs={"server_default": "OFFICE"},
    )
    phone: str = Field(max_length=50)
    # The number in E.164 (`+497111234560`), NULL when it cannot be read as one: what
    # duplicates compare (app/services/contact_info/rules.py: phone_e164).
    e164: str | None = Field(default=None, max_length=20)
    is_primary: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    identifiers_checked: str | None = checked_column()  # models.identifier_checks
