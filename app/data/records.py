"""The row operations every entity shares: get, insert, partial update with a version check,
delete (the batched reads behind the GraphQL loaders are in `batch_reads`; the SQL of the row
reads and updates, built once per shape, in `row_statements`).

Reads select plain rows (no ORM objects); every statement goes through the tenant scope.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.engine import Row, result_tuple
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from app.data import changes, dependents, list_counts, row_statements
from app.data import constraints as db_errors
from app.data.changes import Tracked
from app.data.dependents import Dependent
from app.data.live_links import refuse_hidden_links
from app.data.row_values import record_columns, stored_values
from app.data.tenancy import TenantScope
from app.data.unit_of_work import Reading, UnitOfWork
from app.errors import AppError, Conflict, NotFound

ErrorFactory = Callable[[], AppError]
AfterWrite = Callable[[UnitOfWork, Row[Any]], None]
# The read model of an entity's rows: a Protocol of its record columns (its domain's rows.py).
RowT = TypeVar("RowT", covariant=True)


@dataclass(frozen=True, eq=False)  # one instance per table: equal means the same object
class Entity(Generic[RowT]):
    """How the services treat one table: its name in messages, its constraint errors, and
    the read model its rows are typed as (`row`).

    `row` is a Protocol that SQLAlchemy's rows satisfy as they are read: nothing is built
    per row, and the reads and writes here hand them out as that type (the one cast between
    the database and the typed services; tests/test_read_models.py checks each read model
    against the model's record columns). It is typed as a callable returning the row only
    because mypy refuses a Protocol class where a `type[...]` is expected (type-abstract);
    it is never called."""

    model: Any
    label: str
    constraint_errors: Mapping[str, ErrorFactory] = field(default_factory=dict)
    tracked: Tracked | None = None  # how its changes appear as events (None: they don't)
    dependents: tuple[Dependent, ...] = ()
    row: Callable[..., RowT] = field(kw_only=True)

    @cached_property
    def columns(self) -> tuple[Any, ...]:
        return record_columns(self.model)

    @property
    def id(self) -> Any:
        return col(self.model.id)

    @property
    def versioned(self) -> bool:
        return "version" in self.model.model_fields

    def column(self, name: str) -> Any:
        return col(getattr(self.model, name))

    @cached_property
    def row_of(self) -> Callable[[Sequence[Any]], Row[Any]]:
        """A row of this entity's columns from their values, as its reads return it."""
        return result_tuple([column.key for column in self.columns])


def insert_statement(scope: TenantScope, entity: Entity[object], values: Mapping[str, Any]) -> Any:
    """INSERT of one row of the tenant, RETURNING its record columns."""
    stored = scope.owned(**stored_values(entity.model, values))
    return sa.insert(entity.model).values(stored).returning(*entity.columns)


async def get_row(scope: TenantScope, entity: Entity[RowT], row_id: uuid.UUID) -> RowT:
    return cast(RowT, await _read_row(scope, entity, row_id))


async def find_row(scope: TenantScope, entity: Entity[RowT], *conditions: Any) -> RowT | None:
    """The entity's row matching `conditions` (which at most one row may match), or None."""
    statement = sa.select(*entity.columns).where(*conditions)
    async with scope.reading() as reads:
        return cast(RowT | None, (await reads.execute_rows(statement)).first())


async def select_rows(
    scope: TenantScope, entity: Entity[RowT], statement: sa.Select[Any]
) -> list[RowT]:
    """The rows of a SELECT of the entity's record columns (`sa.select(*entity.columns)...`)."""
    async with scope.reading() as reads:
        return cast(list[RowT], list(await reads.execute_rows(statement)))


def row_of_entity(entity: Entity[RowT], row: Row[Any]) -> RowT:
    """A row of the entity's record columns that a statement of a service's own returned
    (INSERT ... RETURNING entity.columns), as the entity's read model."""
    return cast(RowT, row)


async def _read_row(scope: TenantScope, entity: Entity[object], row_id: uuid.UUID) -> Row[Any]:
    async with scope.reading() as reads:
        return await get_row_in(reads, entity, row_id, lock=False)


async def get_row_in(
    reads: Reading, entity: Entity[object], row_id: uuid.UUID, *, lock: bool = True
) -> Row[Any]:
    """A row read inside an open unit of work, locked against concurrent change by default."""
    statement = row_statements.row_statement(entity, lock)
    row: Row[Any] | None = (await reads.execute_rows(statement, {"crm_row_id": row_id})).first()
    if row is None:
        raise NotFound(entity.label)
    return row


async def count_rows(scope: TenantScope, model: Any, conditions: Sequence[Any]) -> int:
    """How many rows of `model` match: the totalCount of a list."""
    if not conditions and list_counts.is_counted(model):  # the list unfiltered: kept count
        statement = list_counts.live_rows_statement(model)
    else:
        statement = sa.select(sa.func.count()).select_from(model).where(*conditions)
    async with scope.reading() as reads:
        return int((await reads.execute_rows(statement)).scalar_one())


async def insert_row(scope: TenantScope, entity: Entity[RowT], values: Mapping[str, Any]) -> RowT:
    statement = insert_statement(scope, entity, values)
    after: AfterWrite = lambda s, row: record_created(s, entity, row)  # noqa: E731
    return await write_one(scope, entity, statement, after, links=values)


@dataclass(frozen=True)
class UpdateSteps:
    """What else an update's unit of work does, in this order around the row's UPDATE:
    `lock` takes locks that rank before the row's; `place` checks the current row and returns
    more values to set; `then` writes more (e.g. value lists) and returns the changes it made
    for the event. `errors` are the constraint errors those steps may meet."""

    lock: Callable[[UnitOfWork], Awaitable[None]] | None = None
    place: Callable[[UnitOfWork, Row[Any]], Awaitable[Mapping[str, Any]]] | None = None
    then: Callable[[UnitOfWork, Row[Any]], Awaitable[Mapping[str, Any]]] | None = None
    errors: tuple[Mapping[str, ErrorFactory], ...] = ()
    after: AfterWrite | None = None  # more events, after the update's own


@dataclass(frozen=True)
class SystemChange:
    """Values the system sets on a record next to (or instead of) the user's, never taken from
    client input, and the extra events that say what happened (`lexware_linked`)."""

    values: Mapping[str, Any]
    verbs: tuple[str, ...] = ()

    def record(self, uow: UnitOfWork, entity: Entity[object], row: Row[Any]) -> None:
        tracked = entity.tracked
        if tracked is None:
            return
        shown = {changes.camel(k): [None, changes.jsonable(getattr(row, k))] for k in self.values}
        for verb in self.verbs:
            changes.record_verb(uow, tracked, row, verb, shown)

    async def complete(self, uow: UnitOfWork, entity: Entity[object], row: Row[Any]) -> None:
        """What else the system checks or writes in the record's unit of work, once the record
        and its value lists are written (nothing here)."""

    def steps(self, entity: Entity[object], steps: UpdateSteps | None) -> UpdateSteps:
        """`steps`, then `complete`, and recording these events after the update's own."""
        base = steps or UpdateSteps()

        async def then(uow: UnitOfWork, row: Row[Any]) -> Mapping[str, Any]:
            more = await base.then(uow, row) if base.then is not None else {}
            await self.complete(uow, entity, row)
            return more

        def after(uow: UnitOfWork, row: Row[Any]) -> None:
            self.record(uow, entity, row)

        return dataclasses.replace(base, then=then, after=after)


async def update_row(
    scope: TenantScope,
    entity: Entity[RowT],
    row_id: uuid.UUID,
    values: Mapping[str, Any],
    expected_version: int | None = None,
    *,
    steps: UpdateSteps | None = None,
    bump_version: bool = True,
) -> RowT:
    """Change the given columns; with `expected_version`, refuse a stale edit (CONFLICT).
    Nothing to change means no write at all: no new version, no conflict for anyone else.
    `bump_version=False` for bookkeeping that must not invalidate a version a user holds."""
    if not values and steps is None:
        current = await _read_row(scope, entity, row_id)
        _check_version(entity, current, expected_version)
        return cast(RowT, current)
    steps = steps or UpdateSteps()
    with constraint_errors(entity.constraint_errors, *steps.errors):
        async with scope.writing() as uow:
            if steps.lock is not None:
                await steps.lock(uow)
            both = None
            if steps.place is None:  # nothing to decide from the current row: one statement
                both = await _update_reading_old(
                    uow, entity, row_id, values, bump_version, expected_version
                )
            if both is None:  # a step needs the row first, or no row matched: say why
                current = await get_row_in(uow, entity, row_id)
                _check_version(entity, current, expected_version)
                placed = await steps.place(uow, current) if steps.place else {}
                row = await _update(uow, entity, row_id, {**values, **placed}, bump_version)
            else:
                current, row = both
            # After the version check (a stale edit is a CONFLICT first); an error here rolls
            # the UPDATE back.
            await refuse_hidden_links(uow, entity.model, values)  # not to a trashed record
            more = await steps.then(uow, row) if steps.then is not None else {}
            record_updated(uow, entity, current, row, more)
            if steps.after is not None:
                steps.after(uow, row)
    return cast(RowT, row)


async def _update(
    uow: UnitOfWork,
    entity: Entity[object],
    row_id: uuid.UUID,
    values: Mapping[str, Any],
    bump_version: bool = True,
) -> Row[Any]:
    statement, parameters = row_statements.update_for(
        entity, row_id, values, bump_version, with_old=False
    )
    return (await uow.execute_rows(statement, parameters)).one()


async def _update_reading_old(
    uow: UnitOfWork,
    entity: Entity[object],
    row_id: uuid.UUID,
    values: Mapping[str, Any],
    bump_version: bool,
    expected_version: int | None,
) -> tuple[Row[Any], Row[Any]] | None:
    """The row as it was (locked first) and as it is now, from one UPDATE: a round trip and
    a statement less than reading it first. None if no row matched (missing, or not at the
    expected version: the caller finds out which, before anything is written). Only what
    the UPDATE may change is read back old; the rest is as the new row has it."""
    statement, parameters = row_statements.update_for(
        entity, row_id, values, bump_version, with_old=True
    )
    if entity.versioned:
        parameters["crm_expected_version"] = expected_version
    both = (await uow.execute_rows(statement, parameters)).first()
    if both is None:
        return None
    width = len(entity.columns)
    row = entity.row_of(both[:width])
    old = dict(
        zip(row_statements.changeable(entity, tuple(sorted(values))), both[width:], strict=True)
    )
    return entity.row_of([old.get(key, value) for key, value in row._mapping.items()]), row


def _check_version(entity: Entity[object], current: Row[Any], expected: int | None) -> None:
    if expected is not None and current.version != expected:
        raise Conflict(
            f"{entity.label} was changed by someone else (version {current.version}, "
            f"expected {expected}). Reload and try again.",
            currentVersion=current.version,
        )


def check_version(entity: Entity[object], current: Row[Any], expected: int | None) -> None:
    """CONFLICT when the row is not at the version the caller's edit was based on (a write of
    its own, such as a merge, checks it the way updates do)."""
    _check_version(entity, current, expected)


async def delete_row(scope: TenantScope, entity: Entity[object], row_id: uuid.UUID) -> uuid.UUID:
    row: Any = await delete_returning(scope, entity, row_id)
    return uuid.UUID(str(row.id))


async def delete_returning(scope: TenantScope, entity: Entity[RowT], row_id: uuid.UUID) -> RowT:
    """delete_row, answering the row as it was (a mutation's answer names what it was linked to)."""
    statement = (
        sa.delete(entity.model)
        .where(entity.id == row_id)
        .returning(*entity.columns)
        .execution_options(synchronize_session=False)
    )
    with constraint_errors(entity.constraint_errors):
        async with scope.writing() as uow:
            await dependents.detach(uow, entity.dependents, [row_id])
            row = (await uow.execute_rows(statement)).first()
            if row is None:
                raise NotFound(entity.label)
            record_deleted(uow, entity, row)
    return cast(RowT, row)


def record_created(
    uow: UnitOfWork, entity: Entity[object], row: Row[Any], extra: Mapping[str, Any] | None = None
) -> None:
    if entity.tracked is not None:
        changes.created(uow, entity.tracked, row, extra)


def record_updated(
    uow: UnitOfWork,
    entity: Entity[object],
    old: Row[Any],
    new: Row[Any],
    extra: Mapping[str, Any] | None = None,
) -> None:
    if entity.tracked is not None:
        changes.updated(uow, entity.tracked, old, new, extra)


def record_deleted(uow: UnitOfWork, entity: Entity[object], row: Row[Any]) -> None:
    if entity.tracked is not None:
        changes.deleted(uow, entity.tracked, row)


@contextmanager
def constraint_errors(*errors: Mapping[str, ErrorFactory]) -> Iterator[None]:
    """Turn a violated constraint that the entities know into its user-facing error."""
    try:
        yield
    except IntegrityError as error:
        known = {name: factory for mapping in errors for name, factory in mapping.items()}
        translated = db_errors.translate(error, known)
        if translated is None:
            raise
        raise translated from None


async def write_one(
    scope: TenantScope,
    entity: Entity[RowT],
    statement: Any,
    after: AfterWrite | None = None,
    *,
    links: Mapping[str, Any] | None = None,
) -> RowT:
    """Run one write in its own unit of work (`after` records its events there); constraint
    violations become user errors. `links`: the values it writes, whose links to records
    that have a trash must point at live ones (app.data.live_links)."""
    with constraint_errors(entity.constraint_errors):
        async with scope.writing() as uow:
            if links:
                await refuse_hidden_links(uow, entity.model, links)
            row = (await uow.execute_rows(statement)).first()
            if row is None:
                raise NotFound(entity.label)
            if after is not None:
                after(uow, row)
    return cast(RowT, row)
