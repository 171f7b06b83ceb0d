"""An unfiltered list's totalCount from the counts the database keeps (models.list_counts,
alembic 0021): a handful of rows per tenant and table, summed, where `count(*)` read every
live row of the tenant. The rows are written by triggers in the transaction of every insert,
delete and move into or out of the trash, so the sum is exact and includes what committed
before the read; the tenant filter reaches them as any tenant table."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from models import ListCount
from models.list_counts import COUNTED_TABLES


def is_counted(model: Any) -> bool:
    """Whether the live rows of `model`'s table are counted (only those of a Trashable table:
    what its list shows is what the tenant filter leaves, the live rows)."""
    return getattr(model, "__tablename__", None) in COUNTED_TABLES


def live_rows_statement(model: Any) -> sa.Select[Any]:
    """The tenant's live rows of `model`'s (counted) table."""
    total = sa.func.coalesce(sa.func.sum(col(ListCount.live_rows)), 0)
    return sa.select(total).where(col(ListCount.counted) == model.__tablename__)
