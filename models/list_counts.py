"""How many live rows a list holds per tenant, kept by the database (alembic 0021)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import Field

from models.base import TenantScoped

# The tables whose live rows (not in the trash) are counted, each a list's unfiltered
# totalCount: the lists that grow with the tenant's records.
COUNTED_TABLES = ("company", "contact")


class ListCount(TenantScoped, table=True):
    """The live rows of a table in a tenant, kept by alembic 0021's triggers (no service
    writes it): the unfiltered list's totalCount is the sum of the tenant's rows of the table,
    a handful, where counting the table read every row (11.8 ms at 100,000 companies). A
    tenant's table has as many rows here as writers ever held one at the same time: a writer
    adds to a row no other transaction holds, or starts a new one, so concurrent creates never
    wait for each other."""

    __tablename__ = "list_count"
    __table_args__ = (sa.Index("ix_list_count_tenant_id_counted", "tenant_id", "counted"),)

    id: uuid.UUID = Field(
        default_factory=uuid.uuid4,
        primary_key=True,
        sa_column_kwargs={"server_default": sa.text("gen_random_uuid()")},
    )
    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", ondelete="CASCADE", nullable=False)
    counted: str = Field(max_length=63)  # the table's name
    live_rows: int = Field(default=0, sa_type=sa.BigInteger)
