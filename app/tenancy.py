"""The one scoping helper: every session of a tenant sees and writes only that tenant's rows.

`TenantScope` opens sessions that carry the tenant; a session listener adds
`tenant_id = :tenant` to every ORM select, update and delete of a tenant-owned table (through
`with_loader_criteria`, so joins and aliases are covered too) and sets `app.tenant_id` at the
start of each transaction for PostgreSQL row-level security. A session without a tenant that
touches a tenant-owned table fails instead of reading across tenants.

The services run their statements of rows through `execute_rows`: the same filter and
refusals, applied here, then run on the session's connection, past the ORM's per-execution
work. Text statements and parameter lists (executemany) go through `session.execute`. An
INSERT's own values carry the tenant (`TenantScope.owned`); an INSERT that reads rows
(INSERT ... SELECT) gets the filter on what it reads, through `execute_rows` only.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Result
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, with_loader_criteria
from sqlalchemy.orm.context import FromStatement
from sqlalchemy.sql import visitors
from sqlalchemy.sql.util import find_tables
from sqlalchemy.util import await_
from sqlalchemy.util.typing import TupleAny

from models import TenantScoped

TENANT_KEY = "tenant_id"
TENANT_SETTING = "SELECT set_config('app.tenant_id', %s, true)"  # the transaction's tenant
ACTOR_KEY = "actor_id"
SYSTEM_KEY = "system"


class CrmSession(Session):
    """The sync session behind every AsyncSession of the application."""


class TenantScopeError(RuntimeError):
    """A tenant-owned table was queried by a session that carries no tenant, or around the
    tenant filter (Core statements on tenant tables)."""


TENANT_TABLES: frozenset[str] = frozenset()  # filled below, once the models are mapped


@event.listens_for(CrmSession, "after_begin")
def _set_tenant_setting(session: Session, _tx: SessionTransaction, connection: Connection) -> None:
    tenant_id = session.info.get(TENANT_KEY)
    if tenant_id is not None and not _begin_with_tenant(connection, tenant_id):
        connection.execute(sa.text(TENANT_SETTING % ":tenant"), {"tenant": str(tenant_id)})


def begin_with_tenant_sql(tenant_id: Any, *, read_only: bool = False) -> str:
    """BEGIN and the tenant setting as one message (the simple query protocol takes both). A
    UUID's text is hex and dashes: safe inline, and it saves a round trip."""
    tenant = repr(str(uuid.UUID(str(tenant_id))))
    return f"BEGIN{' READ ONLY' if read_only else ''}; {TENANT_SETTING % tenant}"


class _BegunTransaction:
    """Stands in for the asyncpg transaction that SQLAlchemy's asyncpg adapter keeps; the
    adapter only commits or rolls it back (and translates the driver's errors)."""

    def __init__(self, driver: Any) -> None:
        self._driver = driver

    async def commit(self) -> None:
        await self._driver.execute("COMMIT")

    async def rollback(self) -> None:
        await self._driver.execute("ROLLBACK")


def _begin_with_tenant(connection: Connection, tenant_id: Any) -> bool:
    """Begin the transaction with the tenant set in one round trip; SQLAlchemy's asyncpg
    adapter would send BEGIN (lazily, before the first statement) and the setting as two. Only
    a plain transaction not yet begun on that adapter; anything else goes the usual way."""
    adapter: Any = connection.connection.dbapi_connection
    plain = (
        getattr(adapter, "isolation_level", "unknown") is None
        and getattr(adapter, "_transaction", "unknown") is None
        and not adapter.readonly
        and not adapter.deferrable
    )
    if not plain:
        return False
    try:
        await_(adapter._connection.execute(begin_with_tenant_sql(tenant_id)))
    except Exception:  # the usual way meets it again, reports it and drops a dead connection
        return False
    adapter._transaction = _BegunTransaction(adapter._connection)
    return True


def _tenant_tables() -> frozenset[str]:
    return frozenset(
        mapper.local_table.name  # type: ignore[attr-defined]
        for mapper in TenantScoped._sa_registry.mappers
        if issubclass(mapper.class_, TenantScoped)
    )


def _from_tables(statement: Any) -> list[Any]:
    froms: list[Any]
    if isinstance(statement, sa.Select):
        froms = list(statement.get_final_froms())
    else:  # INSERT, UPDATE, DELETE name their table
        froms = [getattr(statement, "table", None)]
    tables: list[Any] = []
    for item in froms:
        if item is not None:
            tables += find_tables(item, include_joins=True, include_aliases=True)
    return tables


def _refuse_core_access(state: ORMExecuteState) -> None:
    """Core tables or columns of tenant tables (`Company.__table__`) would bypass the filter
    below, even inside an otherwise ORM statement; ORM entities and attributes carry a
    `parententity` annotation and are filtered."""
    statement = state.statement
    if not isinstance(statement, sa.ClauseElement):
        return
    if isinstance(statement, FromStatement) and _reads_tenant_models(state):
        # Rows from a statement of its own (text, a Core select): no filter can reach it.
        raise TenantScopeError("tenant-owned models are not loaded through from_statement()")
    shape = _shape_of(statement)
    if shape is not None and shape in _SCOPED_SHAPES:
        return
    if isinstance(statement, sa.Select | sa.Update | sa.Delete):
        _refuse_core_sources(statement)
    _walk_for_core_access(statement, has_mappers=bool(state.all_mappers))
    if shape is not None:
        _remember_scoped(shape)


def _walk_for_core_access(statement: sa.ClauseElement, *, has_mappers: bool) -> None:
    if not has_mappers:
        for table in _from_tables(statement):
            plain = "parententity" not in getattr(table, "_annotations", {})
            if plain and getattr(table, "name", None) in TENANT_TABLES:
                raise TenantScopeError("tenant-owned tables are queried through their models only")
    for element in visitors.iterate(statement):
        if (
            isinstance(element, sa.Column)
            and "parententity" not in element._annotations  # other annotations: still Core
            and getattr(element.table, "name", None) in TENANT_TABLES
        ):
            raise TenantScopeError("tenant-owned tables are queried through their models only")


# Statement shapes (SQLAlchemy cache keys, without bound values) that passed the walk above.
# The walk visits every element of a statement, on every execution: a tenth of a small
# mutation's CPU. Its verdict depends on the elements alone, and a cache key tells an ORM
# column from a Core one (its annotations are part of the key; a test pins this), so a shape
# that passed once passes again. Bounded like SQLAlchemy's own compiled cache.
_SCOPED_SHAPES: dict[Any, None] = {}
MAX_SCOPED_SHAPES = 1000


def _shape_of(statement: Any) -> Any:
    key = statement._generate_cache_key()
    return None if key is None else key.key


def _remember_scoped(shape: Any) -> None:
    if len(_SCOPED_SHAPES) >= MAX_SCOPED_SHAPES:
        _SCOPED_SHAPES.pop(next(iter(_SCOPED_SHAPES)))  # the oldest
    _SCOPED_SHAPES[shape] = None


def _reads_tenant_models(state: ORMExecuteState) -> bool:
    return any(issubclass(m.class_, TenantScoped) for m in state.all_mappers)


@event.listens_for(CrmSession, "do_orm_execute")
def _scope_to_tenant(state: ORMExecuteState) -> None:
    if state.session.info.get(SYSTEM_KEY):
        return
    tenant_id = state.session.info.get(TENANT_KEY)
    if state.is_column_load or state.is_relationship_load:
        # They carry the filter their objects were loaded with: give it its value.
        if tenant_id is not None:
            state.parameters = _with_tenant(state.parameters, tenant_id)
        return
    filtered = state.is_select or state.is_update or state.is_delete
    if filtered and tenant_id is not None:
        if state.is_executemany:  # SQLAlchemy's bulk UPDATE by primary key ignores the filter
            raise TenantScopeError("bulk UPDATE or DELETE by primary key is not tenant-scoped")
        state.statement = _filtered(state.statement)
        state.parameters = _with_tenant(state.parameters, tenant_id)
    elif state.is_insert and tenant_id is not None and _insert_reads(state.statement):
        # The ORM takes every parameter of an INSERT for a column: the tenant's cannot go in.
        raise TenantScopeError("an INSERT that reads rows runs through execute_rows")
    # After the filter: SQLAlchemy keys its compiled cache by this same statement object, so
    # its cache key is computed once per execution, not once here and again there.
    _refuse_core_access(state)
    if filtered and tenant_id is None and _reads_tenant_models(state):
        raise TenantScopeError("tenant-owned table queried without a tenant scope")


async def execute_rows(
    session: AsyncSession, statement: Any, parameters: Mapping[str, Any] | None = None
) -> Result[*TupleAny]:
    """Rows of a column statement (a SELECT of columns, an INSERT, UPDATE or DELETE with
    RETURNING columns) in the session's transaction, run on its connection: the same SQL as
    `session.execute` gives it (the tenant filter, no Core tables), without the ORM's
    per-execution work. The ORM annotates a fresh copy of every UPDATE, INSERT and DELETE, so
    SQLAlchemy keys and looks up its compiled form anew each time: half a small update's cost.
    Sessions without a tenant, and lists of parameters, go through the session's listener."""
    tenant_id = session.info.get(TENANT_KEY)
    if tenant_id is None or session.info.get(SYSTEM_KEY) or isinstance(parameters, list):
        return await session.execute(statement, parameters)
    if isinstance(statement, sa.Insert) and not _insert_reads(statement):
        # A plain INSERT binds no tenant (a parameter it does not bind would be taken for a
        # column); its values carry the tenant (`TenantScope.owned`).
        prepared, values = statement, dict(parameters or {})
    else:
        prepared, values = _filtered(statement), _with_tenant(parameters, tenant_id)
    _refuse_unscoped_rows(prepared)
    connection = await session.connection()
    return await connection.execute(prepared, values)


# Statement shapes that `execute_rows` has checked, bounded like _SCOPED_SHAPES.
_ROW_SHAPES: dict[Any, None] = {}


def _refuse_unscoped_rows(statement: Any) -> None:
    """Only ORM statements get the tenant filter when compiled, and only rows come back from
    a connection (an entity would come back as its columns, not as an object)."""
    shape = _shape_of(statement)
    if shape is not None and shape in _ROW_SHAPES:
        return
    if statement._propagate_attrs.get("compile_state_plugin") != "orm":
        raise TenantScopeError("tenant-owned tables are queried through their models only")
    if isinstance(statement, FromStatement):  # its rows come from text no filter reaches
        raise TenantScopeError("tenant-owned models are not loaded through from_statement()")
    if isinstance(statement, sa.Select) and any(
        _is_entity(description["expr"]) for description in statement.column_descriptions
    ):
        raise TenantScopeError("execute_rows returns rows: select columns, not entities")
    _refuse_core_sources(statement)
    _walk_for_core_access(statement, has_mappers=True)
    if shape is not None:
        if len(_ROW_SHAPES) >= MAX_SCOPED_SHAPES:
            _ROW_SHAPES.pop(next(iter(_ROW_SHAPES)))
        _ROW_SHAPES[shape] = None


def _refuse_core_sources(statement: Any) -> None:
    """What the statement names as its sources (the UPDATE's or DELETE's table, a select's
    select_from and join targets) must be models: a Core table there is read or written
    without the filter, even when the statement's columns are the model's."""
    if isinstance(statement, sa.Select):
        named: list[Any] = [*statement._from_obj]
        for target, _onclause, left, _flags in statement._setup_joins:
            named += [target] if left is None else [target, left]
    else:
        named = [statement.table]
    for source in named:
        for table in find_tables(source, include_joins=True, include_aliases=True):
            plain = "parententity" not in getattr(table, "_annotations", {})
            if plain and getattr(table, "name", None) in TENANT_TABLES:
                raise TenantScopeError("tenant-owned tables are queried through their models only")


def _is_entity(expression: Any) -> bool:
    inspected = sa.inspect(expression, raiseerr=False)
    return bool(
        getattr(inspected, "is_mapper", False) or getattr(inspected, "is_aliased_class", False)
    )


def _tenant_filter(tenant: sa.BindParameter[Any]) -> Any:
    """The tenant filter on every tenant-owned table of a statement, aliases and subqueries
    included, comparing with a bind parameter: one option, built once, serves every tenant,
    and a statement's shape (its cache key, its compiled SQL) is the same for all of them.
    It travels with the objects it loads to their later loads (SQLAlchemy applies it to
    relationship loads, which no model has yet); the session listener gives those the tenant."""
    return with_loader_criteria(
        TenantScoped, lambda cls: cls.tenant_id == tenant, include_aliases=True
    )


# Every session statement, and every statement of the compiled execution path, gets this one
# filter; the tenant's id is the value of TENANT_PARAMETER in each execution.
TENANT_PARAMETER = "crm_tenant_id"
TENANT_FILTER = _tenant_filter(sa.bindparam(TENANT_PARAMETER, type_=sa.Uuid()))


# The filtered twin of each statement, while the statement lives: a statement built once
# (`functools.cache`) is then filtered, and its cache key computed, once.
_FILTERED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _filtered(statement: Any) -> Any:
    filtered = _FILTERED.get(statement)
    if filtered is None:
        filtered = _FILTERED[statement] = statement.options(TENANT_FILTER)
    return filtered


def _with_tenant(parameters: Any, tenant_id: Any) -> dict[str, Any]:
    return {**(parameters or {}), TENANT_PARAMETER: tenant_id}


# Per INSERT shape: whether it reads rows (see _insert_reads). Bounded like _SCOPED_SHAPES.
_INSERT_READS: dict[Any, bool] = {}


def _insert_reads(statement: Any) -> bool:
    """Whether an INSERT reads rows (INSERT ... SELECT, a subquery among its values): then
    the filter must reach what it reads. Its own values carry the tenant
    (`TenantScope.owned`)."""
    shape = _shape_of(statement)
    reads = _INSERT_READS.get(shape) if shape is not None else None
    if reads is None:
        reads = any(isinstance(e, sa.Select) for e in visitors.iterate(statement))
        if shape is not None:
            if len(_INSERT_READS) >= MAX_SCOPED_SHAPES:
                _INSERT_READS.pop(next(iter(_INSERT_READS)))
            _INSERT_READS[shape] = reads
    return reads


TENANT_TABLES = _tenant_tables()


class DriverReading(NamedTuple):
    """A connection in a driver-level read-only transaction: SQLAlchemy's connection (its
    statement events) and the asyncpg connection under it."""

    connection: AsyncConnection
    driver: Any


@dataclass(frozen=True)
class TenantScope:
    """A tenant (and the acting user) bound to the session factory.

    `gate` bounds how many sessions one request holds at once: sibling fields resolve
    concurrently, and thirty aliased lists must not take the whole connection pool.
    """

    tenant_id: uuid.UUID
    actor_id: uuid.UUID | None
    sessions: async_sessionmaker[AsyncSession]
    gate: asyncio.Semaphore | None = None

    def session(self) -> AsyncSession:
        session = self.sessions()
        session.info[TENANT_KEY] = self.tenant_id
        session.info[ACTOR_KEY] = self.actor_id
        return session

    @asynccontextmanager
    async def _gated(self) -> AsyncIterator[None]:
        if self.gate is None:
            yield
            return
        async with self.gate:
            yield

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A short session for one read (a root query or one loader batch)."""
        async with self._gated(), self.session() as session:
            yield session

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits once at the end, rolls back on any error."""
        async with self._gated(), self.session() as session, session.begin():
            yield session

    @asynccontextmanager
    async def driver_reading(self) -> AsyncIterator[DriverReading]:
        """A read-only transaction with the tenant set, for statements sent to the driver
        directly (the compiled execution path): one round trip to begin, one to end."""
        engine = self.sessions.kw["bind"]
        async with self._gated(), engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            await driver.execute(begin_with_tenant_sql(self.tenant_id, read_only=True))
            try:
                yield DriverReading(connection, driver)
            finally:
                try:
                    await driver.execute("ROLLBACK")
                except Exception:
                    await connection.invalidate()
                    raise

    def owned(self, **values: Any) -> dict[str, Any]:
        """Column values for a new row of this tenant."""
        return {**values, TENANT_KEY: self.tenant_id}


@asynccontextmanager
async def system_session(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session outside any tenant, for provisioning tenants and members only."""
    async with sessions() as session, session.begin():
        session.info[SYSTEM_KEY] = True
        yield session
