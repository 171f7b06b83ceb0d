"""Rows that point at a record being deleted: unlinked (or removed) first, each change an
event of its own, before the record's DELETE whose foreign keys would change them silently.
Trashed rows too (`with_trashed=True`): a trashed contact of a purged company loses the link
as a live one does, with its event, not silently by the foreign key; a trashed dependent
removed with it is `purged`.

Unlinking comes before deciding what is left linked to nothing: the UPDATE locks each row
and, when another transaction changed it meanwhile (another delete unlinked its other
record), waits for it and works on the row as that transaction left it. The orphans' DELETE
runs after, as a statement of its own (its snapshot sees what committed meanwhile), on the
rows this transaction holds: two deletes that each leave a row one link can never both
keep it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row, result_tuple
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.data import changes
from app.data.changes import Tracked
from app.data.row_values import record_columns
from app.data.unit_of_work import UnitOfWork
from models.base import Trashable

_OLD_LINK = "crm_old_link"


@dataclass(frozen=True)
class Dependent:
    """Rows of another table that point at an entity through `column` and lose that link when
    it is deleted (the foreign key's SET NULL, or CASCADE with `removes`). The delete makes
    that change itself, first, so that each one is an event of its own. `kept_by`: the row's
    other links; a row with none of them set would be linked to nothing, shown nowhere, and
    is deleted instead (an activity of a deleted company and no contact or deal)."""

    model: Any
    column: str
    tracked: Tracked
    removes: bool = False
    kept_by: tuple[str, ...] = ()


async def detach(
    uow: UnitOfWork, dependents: Sequence[Dependent], target_ids: Sequence[uuid.UUID]
) -> None:
    """Unlink (or remove) the rows pointing at the rows about to be deleted, with their
    events: for each target, what deleting it alone would do."""
    if not target_ids:
        return
    for dependent in dependents:
        if dependent.removes:
            await _remove(uow, dependent, target_ids)
        else:
            await _unlink(uow, dependent, target_ids)


async def _remove(uow: UnitOfWork, dependent: Dependent, targets: Sequence[uuid.UUID]) -> None:
    model = dependent.model
    statement = (
        sa.delete(model)
        .where(_link(dependent).in_(targets))
        .returning(*record_columns(model))
        .execution_options(synchronize_session=False)
    )
    for row in await uow.execute_rows(statement, with_trashed=True):
        _removed(uow, dependent, row)


async def _unlink(uow: UnitOfWork, dependent: Dependent, targets: Sequence[uuid.UUID]) -> None:
    """Each row's link set to NULL (the row locked, read as it is now), then those left with
    no link deleted; events: `deleted` for those (as they were), `updated` for the rest."""
    model, link = dependent.model, _link(dependent)
    columns = record_columns(model)
    # The link each row had: the UPDATE reads it from the row locked in a subquery.
    locked = sa.select(col(model.id), link).where(link.in_(targets)).with_for_update()
    old = aliased(model, locked.subquery())
    values: dict[str, Any] = {dependent.column: None}
    if "version" in model.model_fields:
        values["version"] = col(model.version) + 1
    statement = (
        sa.update(model)
        .where(col(model.id) == old.id)
        .values(**values)
        .returning(*columns, getattr(old, dependent.column).label(_OLD_LINK))
        .execution_options(synchronize_session=False)
    )
    unlinked = {row.id: row for row in await uow.execute_rows(statement, with_trashed=True)}
    removed = await _remove_orphans(uow, dependent, unlinked)
    for row in removed:  # as it was before this delete unlinked it
        before = {**row._mapping, dependent.column: getattr(unlinked[row.id], _OLD_LINK)}
        _removed(uow, dependent, _row(columns, before))
    gone = {row.id for row in removed}
    for row_id, row in unlinked.items():
        if row_id not in gone:
            change = {changes.camel(dependent.column): [str(getattr(row, _OLD_LINK)), None]}
            changes.record_update(uow, dependent.tracked, row, change)


async def _remove_orphans(
    uow: UnitOfWork, dependent: Dependent, unlinked: dict[Any, Row[Any]]
) -> list[Row[Any]]:
    """The unlinked rows left with no link at all, deleted. The UPDATE's rows are as they are
    now (it waited for any transaction that held them), and this transaction holds them."""
    orphans = [
        row_id
        for row_id, row in unlinked.items()
        if all(getattr(row, name) is None for name in dependent.kept_by)
    ]
    if not dependent.kept_by or not orphans:
        return []
    model = dependent.model
    unset = [col(getattr(model, name)).is_(None) for name in (dependent.column, *dependent.kept_by)]
    statement = (
        sa.delete(model)
        .where(col(model.id).in_(orphans), *unset)
        .returning(*record_columns(model))
        .execution_options(synchronize_session=False)
    )
    return list(await uow.execute_rows(statement, with_trashed=True))


def _removed(uow: UnitOfWork, dependent: Dependent, row: Row[Any]) -> None:
    """A removed row's event: `purged` for a record that has a trash (`deleted` means moved
    to the trash there, and this one is gone for good), `deleted` for the others."""
    if issubclass(dependent.model, Trashable):
        changes.purged(uow, dependent.tracked, row)
    else:
        changes.deleted(uow, dependent.tracked, row)


def _link(dependent: Dependent) -> Any:
    return col(getattr(dependent.model, dependent.column))


def _row(columns: Sequence[Any], values: dict[str, Any]) -> Row[Any]:
    keys = [column.key for column in columns]
    return result_tuple(keys)([values[key] for key in keys])
