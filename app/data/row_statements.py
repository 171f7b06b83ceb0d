"""The SQL of the row operations (app.data.records): the row by id, and an UPDATE of a set of
columns, optionally reading the old values back. Built once per entity and shape with bind
parameters, so SQLAlchemy builds, keys and compiles each once, not on every write; the tenant
filter is added by the unit of work, also once per statement (app.data.unit_of_work)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.data.row_values import stored_values
from models.base import in_record_row

if TYPE_CHECKING:
    from app.data.records import Entity


def update_for(
    entity: Entity[object],
    row_id: uuid.UUID,
    values: Mapping[str, Any],
    bump_version: bool,
    with_old: bool,
) -> tuple[Any, dict[str, Any]]:
    bump = entity.versioned and bump_version
    values = stored_values(entity.model, values)
    parameters: dict[str, Any] = {"crm_row_id": row_id}
    if any(is_sql(value) for value in values.values()):  # SQL values: built each time
        return update_statement(entity, {**values}, bump, with_old), parameters
    parameters.update({f"crm_new_{k}": v for k, v in values.items()})
    return update_statement_for(entity, tuple(sorted(values)), bump, with_old), parameters


@functools.lru_cache(maxsize=1024)
def changeable(entity: Entity[object], keys: tuple[str, ...]) -> tuple[str, ...]:
    """The record columns an UPDATE of `keys` may change (their old values are read back):
    those, the version and what the table updates by itself (`updated_at`); not a column
    outside the record's row (models.base.in_record_row). Once per entity and set of keys,
    like the statement."""
    table = entity.model.__table__
    automatic = [c.name for c in table.columns if c.onupdate is not None or c.server_onupdate]
    versioned = ["version"] if entity.versioned else []
    changed = [key for key in keys if in_record_row(table.c[key])]
    return tuple(dict.fromkeys([*changed, *versioned, *automatic]))


# Parameter names no column has: an UPDATE sets any column a parameter is named after.
_ROW_ID = sa.bindparam("crm_row_id", type_=sa.Uuid())
_EXPECTED = sa.bindparam("crm_expected_version", type_=sa.Integer())


def is_sql(value: Any) -> bool:
    """An expression or a column (`updated_at` kept as it is), not a value to bind."""
    return isinstance(value, sa.ClauseElement) or hasattr(value, "__clause_element__")


@functools.lru_cache(maxsize=256)
def row_statement(entity: Entity[object], lock: bool) -> sa.Select[Any]:
    statement = sa.select(*entity.columns).where(entity.id == _ROW_ID)
    return statement.with_for_update() if lock else statement


@functools.lru_cache(maxsize=1024)
def update_statement_for(
    entity: Entity[object], keys: tuple[str, ...], bump: bool, with_old: bool
) -> Any:
    values = {k: sa.bindparam(f"crm_new_{k}", type_=entity.column(k).type) for k in keys}
    return update_statement(entity, values, bump, with_old)


def update_statement(
    entity: Entity[object], values: dict[str, Any], bump: bool, with_old: bool
) -> Any:
    """UPDATE ... RETURNING the new row; `with_old`, the old one after it, read by the UPDATE
    from the row locked FOR UPDATE in a subquery (so it is the version the UPDATE replaced)."""
    readable = changeable(entity, tuple(sorted(values)))
    if bump:
        values["version"] = entity.column("version") + 1
    statement = sa.update(entity.model).values(**values)
    statement = statement.execution_options(synchronize_session=False)
    if not with_old:
        return statement.where(entity.id == _ROW_ID).returning(*entity.columns)
    locked = sa.select(entity.id, *(entity.column(k) for k in readable))
    old = aliased(entity.model, locked.where(entity.id == _ROW_ID).with_for_update().subquery())
    old_columns = [getattr(old, k).label(f"crm_old_{k}") for k in readable]
    matched = [entity.id == old.id]
    if entity.versioned:  # a stale edit writes nothing, not even a constraint check
        matched.append(sa.or_(_EXPECTED.is_(None), old.version == _EXPECTED))
    return statement.where(*matched).returning(*entity.columns, *old_columns)
