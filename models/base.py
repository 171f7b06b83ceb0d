"""Shared building blocks of every table: ids, tenancy, timestamps, constraint names.

Every tenant-owned table carries `tenant_id` and a unique `(id, tenant_id)` so that foreign
keys between tenant tables can be composite: a row can never point into another tenant.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import ForeignKeyConstraint
from sqlmodel import Field, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TENANT_COLUMN = "tenant_id"


def _uuid_pk() -> Any:
    return Field(
        default_factory=uuid.uuid4,
        primary_key=True,
        sa_column_kwargs={"server_default": sa.text("gen_random_uuid()")},
    )


def _timestamp(*, on_update: bool = False) -> Any:
    kwargs: dict[str, Any] = {"server_default": sa.func.now()}
    if on_update:
        kwargs["onupdate"] = sa.func.now()
    return Field(
        default=None, sa_type=sa.DateTime(timezone=True), nullable=False, sa_column_kwargs=kwargs
    )


class Timestamped(SQLModel):
    created_at: datetime | None = _timestamp()
    updated_at: datetime | None = _timestamp(on_update=True)


class TenantScoped(SQLModel):
    """Mixin of every table whose rows belong to one tenant; the tenancy helper filters on it."""

    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE", nullable=False)


class TenantOwned(Timestamped, TenantScoped):
    """A tenant's entity: a uuid id, the tenant and timestamps."""

    id: uuid.UUID = _uuid_pk()
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE", nullable=False)


class Versioned(SQLModel):
    """Optimistic-locking counter: updates may name the version they were based on."""

    version: int = Field(default=1, nullable=False, sa_column_kwargs={"server_default": "1"})


def tenant_unique() -> sa.UniqueConstraint:
    """The `(id, tenant_id)` key that composite foreign keys point at."""
    return sa.UniqueConstraint("id", TENANT_COLUMN)


def tenant_fk(column: str, target: str, *, ondelete: str | None = None) -> ForeignKeyConstraint:
    """Composite `(column, tenant_id) -> target(id, tenant_id)` foreign key."""
    return ForeignKeyConstraint(
        [column, TENANT_COLUMN], [f"{target}.id", f"{target}.{TENANT_COLUMN}"], ondelete=ondelete
    )


def enum_type(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    return sa.Enum(enum_cls, name=name)


def string_list() -> Any:
    return Field(
        default_factory=list,
        sa_type=postgresql.ARRAY(sa.String(50)),
        nullable=False,
        sa_column_kwargs={"server_default": sa.text("'{}'::varchar[]")},
    )


# Tags keep the spelling they were given and compare ignoring case: filters and rules match
# `tag_keys @> ARRAY[:key]`. `tag_keys` holds the tags' keys (models.tags.tag_key, a
# Unicode case fold made in Python, never by PostgreSQL), written with the tags by the
# services (app.data.row_values.stored_values). A condition on it costs what one on
# `tags` did (under row-level security a tenant's filter is applied row by row), and a GIN
# index on it answers the crons' lookups. A write that sets tags without their keys fails
# the check below (a key per tag), instead of leaving a record that no filter finds.
DERIVED = "derived"  # Column.info key: kept for the database's own use, not a record's value
# Column.info key: read only by the code that needs it, never with the row (the Lexware merge
# base, a JSON document every read of a company or contact would otherwise carry).
READ_APART = "read_apart"


def in_record_row(column: sa.Column[Any]) -> bool:
    """Whether a column is read (and read back by updates) with a record's row."""
    return not (column.info.get(DERIVED) or column.info.get(READ_APART))


class Trashable(SQLModel):
    """A record that a delete moves to the trash (company, contact, deal, activity,
    contract): when and by whom. The tenant filter (app.data.tenant_filter) hides a row
    with `deleted_at` set from every statement that does not ask for trashed rows too."""

    # Read apart (READ_APART): only the trash's own code reads them; a record read, its
    # events and its read model carry neither (a live record's are NULL).
    deleted_at: datetime | None = Field(
        default=None,
        sa_type=sa.DateTime(timezone=True),
        sa_column_kwargs={"info": {READ_APART: True}},
    )
    deleted_by: uuid.UUID | None = Field(
        default=None, sa_column_kwargs={"info": {READ_APART: True}}
    )


def trash_table_args(table: str) -> tuple[Any, ...]:
    """A Trashable table's key and indexes: `deleted_by` to the user (SET NULL, as every
    other link to a user), and partial indexes over the trashed rows only (few): the trash
    list and the retention cron seek (tenant, deleted_at, id); a user's removal finds their
    `deleted_by` (the key's lookup `deleted_by = $1` implies the predicate). A whole index
    on (tenant_id, deleted_by) would be a second tenant-wide index, all NULLs, and the
    planner took it for tenant scans. Lists keep their own indexes: `deleted_at IS NULL` is
    a cheap filter there while few rows are trashed."""
    return (
        tenant_fk("deleted_by", "user", ondelete="SET NULL"),
        sa.Index(
            f"ix_{table}_trashed",
            TENANT_COLUMN,
            "deleted_at",
            "id",
            postgresql_where=sa.text("deleted_at IS NOT NULL"),
        ),
        sa.Index(
            f"ix_{table}_deleted_by",
            TENANT_COLUMN,
            "deleted_by",
            postgresql_where=sa.text("deleted_by IS NOT NULL"),
        ),
    )


def tag_keys_column() -> Any:
    """The `tag_keys` of a table with `tags` (never read back as a record's value:
    services.records leaves derived columns out)."""
    column: sa.Column[list[str]] = sa.Column(
        "tag_keys",
        postgresql.ARRAY(sa.Text()),
        nullable=False,
        server_default=sa.text("'{}'::text[]"),
        info={DERIVED: True},
    )
    return Field(default=None, sa_column=column)


def search_name_column(expression: str) -> Any:
    """A name as search matches it (`crm_fold`, migration 0013), stored by PostgreSQL beside
    the record: its trigram index is rechecked against this text, where an index on the
    expression folded every candidate row again. Never read back as a record's value."""
    column: sa.Column[str] = sa.Column(
        "search_name", sa.Text(), sa.Computed(expression, persisted=True), info={DERIVED: True}
    )
    return Field(default=None, sa_column=column)


def derived_text_column(name: str, expression: str) -> Any:
    """A text PostgreSQL computes and stores from the record (`expression`), for an index's
    own use; never read back as a record's value (as `search_name`)."""
    column: sa.Column[str] = sa.Column(
        name, sa.Text(), sa.Computed(expression, persisted=True), info={DERIVED: True}
    )
    return Field(default=None, sa_column=column)


def tag_keys_check() -> sa.CheckConstraint:
    return sa.CheckConstraint("cardinality(tag_keys) = cardinality(tags)", name="tag_keys")


def tag_keys_index(table: str) -> sa.Index:
    return sa.Index(f"ix_{table}_tag_keys", "tag_keys", postgresql_using="gin")


def money() -> sa.Numeric[Any]:
    return sa.Numeric(14, 2, asdecimal=True)


@compiles(ForeignKeyConstraint, "postgresql")
def _set_null_keeps_tenant(constraint: ForeignKeyConstraint, compiler: Any, **kw: Any) -> str:
    """`ON DELETE SET NULL` on a composite tenant key must not null `tenant_id`.

    PostgreSQL 15+ accepts a column list (`SET NULL (company_id)`); SQLAlchemy's phrase check
    does not, so the list is added here for every composite key that includes the tenant.
    """
    sql: str = compiler.visit_foreign_key_constraint(constraint, **kw)
    columns = [c.name for c in constraint.columns]
    if (constraint.ondelete or "").upper() == "SET NULL" and TENANT_COLUMN in columns:
        kept = ", ".join(compiler.preparer.quote(c) for c in columns if c != TENANT_COLUMN)
        sql = sql.replace("ON DELETE SET NULL", f"ON DELETE SET NULL ({kept})")
    return sql


__all__ = [
    "DERIVED",
    "READ_APART",
    "Field",
    "SQLModel",
    "TenantOwned",
    "TenantScoped",
    "Timestamped",
    "Trashable",
    "Versioned",
    "enum_type",
    "in_record_row",
    "money",
    "search_name_column",
    "string_list",
    "tag_keys_check",
    "tag_keys_column",
    "tag_keys_index",
    "tenant_fk",
    "tenant_unique",
    "trash_table_args",
]
