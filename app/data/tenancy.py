"""The one scoping helper: every session of a tenant sees and writes only that tenant's rows.

`TenantScope` opens sessions that carry the tenant; a session listener adds
`tenant_id = :tenant` to every ORM select, update and delete of a tenant-owned table (through
`with_loader_criteria`, so joins and aliases are covered too) and, at the start of each
transaction, sets `app.tenant_id` and switches to the role `crm_tenant`, whose row-level
security policies (alembic 0005) back the filter in PostgreSQL. A session without a tenant that
touches a tenant-owned table fails instead of reading across tenants. What a statement may
be, and the filter itself, are in `app.data.tenant_filter`.

The services run their statements of rows through `execute_rows`: the same filter and
refusals, applied here, then run on the session's connection, past the ORM's per-execution
work. Text statements and parameter lists (executemany) go through `session.execute`. An
INSERT's own values carry the tenant (`TenantScope.owned`); an INSERT that reads rows
(INSERT ... SELECT) gets the filter on what it reads, through `execute_rows` only.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Result
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.orm.context import FromStatement
from sqlalchemy.util import await_
from sqlalchemy.util.typing import TupleAny

from app.data.tenant_filter import (
    SCOPED_SHAPES,
    TenantScopeError,
    filtered,
    insert_reads,
    refuse_core_sources,
    refuse_unscoped_rows,
    shape_of,
    walk_for_core_access,
    with_tenant,
)
from app.internals import adapter_has_no_transaction, set_adapter_transaction
from models import TenantScoped

__all__ = [
    "CrmSession",
    "DriverReading",
    "TenantScope",
    "TenantScopeError",
    "begin_with_tenant_sql",
    "execute_rows",
    "system_session",
]

TENANT_KEY = "tenant_id"
# The transaction's tenant, and the role whose row-level security policies check it
# (alembic 0005): a tenant's statements see and write its rows only, even around the filter.
TENANT_ROLE = "crm_tenant"
TENANT_SETTING = (
    f"SELECT set_config('app.tenant_id', %s, true), set_config('role', '{TENANT_ROLE}', true)"
)
ACTOR_KEY = "actor_id"
SYSTEM_KEY = "system"


class CrmSession(Session):
    """The sync session behind every AsyncSession of the application."""


@event.listens_for(CrmSession, "after_begin")
def _set_tenant_setting(session: Session, _tx: SessionTransaction, connection: Connection) -> None:
    tenant_id = session.info.get(TENANT_KEY)
    if tenant_id is not None and not _beginwith_tenant(connection, tenant_id):
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


def _beginwith_tenant(connection: Connection, tenant_id: Any) -> bool:
    """Begin the transaction with the tenant set in one round trip; SQLAlchemy's asyncpg
    adapter would send BEGIN (lazily, before the first statement) and the setting as two. Only
    a plain transaction not yet begun on that adapter; anything else goes the usual way."""
    adapter: Any = connection.connection.dbapi_connection
    plain = (
        getattr(adapter, "isolation_level", "unknown") is None
        and adapter_has_no_transaction(adapter)
        and not adapter.readonly
        and not adapter.deferrable
    )
    if not plain:
        return False
    driver = adapter.driver_connection
    # Recorded first: if this task is cancelled after BEGIN reached the server, the pool's
    # reset of the connection still rolls it back (and the tenant's role with it).
    set_adapter_transaction(adapter, _BegunTransaction(driver))
    try:
        await_(driver.execute(begin_with_tenant_sql(tenant_id)))
    except Exception:  # the usual way meets it again, reports it and drops a dead connection
        set_adapter_transaction(adapter, None)
        if not driver.is_closed():  # BEGIN may have run before the setting failed
            with contextlib.suppress(Exception):
                await_(driver.execute("ROLLBACK"))
        return False
    return True


def _refuse_core_access(state: ORMExecuteState) -> None:
    """Core tables or columns of tenant tables would bypass the filter (app.data.tenant_filter)."""
    statement = state.statement
    if not isinstance(statement, sa.ClauseElement):
        return
    if isinstance(statement, FromStatement) and _reads_tenant_models(state):
        # Rows from a statement of its own (text, a Core select): no filter can reach it.
        raise TenantScopeError("tenant-owned models are not loaded through from_statement()")
    shape = shape_of(statement)
    if SCOPED_SHAPES.get(shape):
        return
    if isinstance(statement, sa.Select | sa.Update | sa.Delete):
        refuse_core_sources(statement)
    walk_for_core_access(statement, has_mappers=bool(state.all_mappers))
    SCOPED_SHAPES.remember(shape, True)


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
            state.parameters = with_tenant(state.parameters, tenant_id)
        return
    scoped = state.is_select or state.is_update or state.is_delete
    if scoped and tenant_id is not None:
        if state.is_executemany:  # SQLAlchemy's bulk UPDATE by primary key ignores the filter
            raise TenantScopeError("bulk UPDATE or DELETE by primary key is not tenant-scoped")
        state.statement = filtered(state.statement)
        state.parameters = with_tenant(state.parameters, tenant_id)
    elif state.is_insert and tenant_id is not None and insert_reads(state.statement):
        # The ORM takes every parameter of an INSERT for a column: the tenant's cannot go in.
        raise TenantScopeError("an INSERT that reads rows runs through execute_rows")
    # After the filter: SQLAlchemy keys its compiled cache by this same statement object, so
    # its cache key is computed once per execution, not once here and again there.
    _refuse_core_access(state)
    if scoped and tenant_id is None and _reads_tenant_models(state):
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
    if isinstance(statement, sa.Insert) and not insert_reads(statement):
        # A plain INSERT binds no tenant (a parameter it does not bind would be taken for a
        # column); its values carry the tenant (`TenantScope.owned`).
        prepared, values = statement, dict(parameters or {})
    else:
        prepared, values = filtered(statement), with_tenant(parameters, tenant_id)
    refuse_unscoped_rows(prepared)
    connection = await session.connection()
    return await connection.execute(prepared, values)


class DriverReading(NamedTuple):
    """A connection in a driver-level read-only transaction: SQLAlchemy's connection (its
    statement events) and the asyncpg connection under it."""

    connection: AsyncConnection
    driver: Any


class Writes:
    """Whether a unit of work of a scope got as far as its commit: then it may have committed,
    whatever error followed (the commit's answer may be lost, or a read after it fail). A
    request that answers an outage with 503 invites a retry, which must not write twice."""

    def __init__(self) -> None:
        self.committing = False


@dataclass(frozen=True)
class TenantScope:
    """A tenant (and the acting user) bound to the session factory.

    `gate` bounds how many sessions one request holds at once: sibling fields resolve
    concurrently, and thirty aliased lists must not take the whole connection pool.
    `creator_owns`: a company, contact or deal the actor creates without naming owners gets
    the actor as OWNER (CREATOR_IS_OWNER, for a user's requests; jobs act for nobody).
    """

    tenant_id: uuid.UUID
    actor_id: uuid.UUID | None
    sessions: async_sessionmaker[AsyncSession]
    gate: asyncio.Semaphore | None = None
    creator_owns: bool = False
    writes: Writes = field(default_factory=Writes, compare=False)

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
            self.writes.committing = True  # the commit goes out as this block ends

    @asynccontextmanager
    async def driver_reading(self) -> AsyncIterator[DriverReading]:
        """A read-only transaction with the tenant set, for statements sent to the driver
        directly (the compiled execution path): one round trip to begin, one to end."""
        engine = self.sessions.kw["bind"]
        async with self._gated(), engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            try:  # BEGIN may run and the setting fail (or the task be cancelled): roll back
                await driver.execute(begin_with_tenant_sql(self.tenant_id, read_only=True))
                yield DriverReading(connection, driver)
            finally:
                try:
                    await driver.execute("ROLLBACK")
                except BaseException:  # cancelled too: the connection's state is unknown
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
