"""Links a write sets must point at live records: a record in the trash (models.base.
Trashable) is NOT_FOUND as a missing id is, for a link as for a read. Its foreign key would
accept it (the row is there), so the write checks, in its unit of work, through the filter
every read gets: one statement, and only when the write sets such a link."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.data.row_statements import is_sql
from app.data.unit_of_work import Reading
from app.errors import NotFound
from models.base import TENANT_COLUMN, Trashable


def _trashable_models() -> dict[str, Any]:
    found: dict[str, Any] = {}
    pending = list(Trashable.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        table = getattr(cls, "__table__", None)
        if table is not None:
            found[table.name] = cls
    return found


@cache
def trashable_links(model: Any) -> tuple[tuple[str, Any], ...]:
    """(column, target model) of each of the model's foreign keys to a Trashable table."""
    targets = _trashable_models()
    links = []
    for key in model.__table__.foreign_key_constraints:
        target = targets.get(key.referred_table.name)
        columns = [c.name for c in key.columns if c.name != TENANT_COLUMN]
        if target is not None and len(columns) == 1:
            links.append((columns[0], target))
    return tuple(links)


async def refuse_hidden_links(reads: Reading, model: Any, values: Mapping[str, Any]) -> None:
    """NOT_FOUND (the target's name) for a link in `values` to a record that is missing, in
    the trash or another tenant's."""
    checks = [
        (target, values[column])
        for column, target in trashable_links(model)
        if values.get(column) is not None and not is_sql(values[column])
    ]
    if not checks:
        return
    found = [
        sa.select(col(target.id)).where(col(target.id) == value).exists()
        for target, value in checks
    ]
    row = (await reads.execute_rows(sa.select(*found))).one()
    for (target, _), live in zip(checks, row, strict=True):
        if not live:
            raise NotFound(target.__name__)
