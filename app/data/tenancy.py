"""The one scoping helper: every session of a tenant sees and writes only that tenant's rows.

`TenantScope` binds a tenant (and the acting user) to the session factory. Its `reading()`
and `writing()` hand out a `Reading` or a `UnitOfWork` (app.data.unit_of_work): the only way
a service reaches the database. They begin the transaction with the tenant set, add the tenant
filter to each statement, and (a unit of work) store the events it records at its commit.
`driver_reading()` serves the compiled execution path, which sends its statements to the
driver itself.

The listeners on the session do no work; they guard. A tenant's session refuses a statement
that did not come through its Reading or UnitOfWork (it would lack the tenant filter) and a
transaction that did not begin there (it would lack the tenant setting, and with it the
row-level security role); any session refuses Core access to tenant tables, which the filter
cannot reach; a session without a tenant refuses tenant tables altogether, unless it is the
system session of provisioning. What a statement may be, and the filter itself, are in
`app.data.tenant_filter`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.orm.context import FromStatement

from app.data.tenant_filter import (
    SCOPED_SHAPES,
    TenantScopeError,
    refuse_core_sources,
    shape_of,
    walk_for_core_access,
)
from app.data.unit_of_work import (
    BEGINNING_KEY,
    THROUGH_SCOPE,
    THROUGH_SCOPE_MARK,
    CommitHook,
    Reading,
    UnitOfWork,
    begin_as_system,
    begin_with_tenant_sql,
)
from models import TenantScoped

__all__ = [
    "CrmSession",
    "DriverReading",
    "TenantScope",
    "TenantScopeError",
    "system_session",
]

TENANT_KEY = "tenant_id"
SYSTEM_KEY = "system"


class CrmSession(Session):
    """The sync session behind every AsyncSession of the application."""


@event.listens_for(CrmSession, "after_begin")
def _refuse_unscoped_begin(
    session: Session, transaction: SessionTransaction, connection: Connection
) -> None:
    """A tenant's transaction begins in `Reading.begin`, which sets its tenant and role: one
    begun any other way (a session used again after its commit) would run without them. The
    session has already kept the connection for that transaction when this runs, so the
    refusal invalidates it too: a second try must not find it ready and unset. A savepoint
    lives inside a transaction begun here, with its setting."""
    if transaction.nested:
        return
    if session.info.get(TENANT_KEY) is not None and not session.info.get(BEGINNING_KEY):
        connection.invalidate()
        raise TenantScopeError("a tenant's transaction begins through its scope")


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
def _refuse_unscoped(state: ORMExecuteState) -> None:
    """Refuse what would read or write tenant rows around the filter; change nothing."""
    if state.session.info.get(SYSTEM_KEY):
        return
    tenant_id = state.session.info.get(TENANT_KEY)
    if tenant_id is not None:
        if state.is_column_load or state.is_relationship_load:
            # A lazy load of an object's attribute: no Reading put the filter's value in.
            raise TenantScopeError("a tenant's rows are read whole, not loaded lazily")
        # The mark of the call (not of the statement, which anyone may give options to).
        if state.local_execution_options.get(THROUGH_SCOPE) is not THROUGH_SCOPE_MARK:
            raise TenantScopeError("a tenant's statements run through its Reading or UnitOfWork")
    _refuse_core_access(state)
    scoped = state.is_select or state.is_update or state.is_delete
    if scoped and tenant_id is None and _reads_tenant_models(state):
        raise TenantScopeError("tenant-owned table queried without a tenant scope")


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
        self.before_commit: CommitHook | None = None  # run by each unit of work's commit


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
        return session

    @asynccontextmanager
    async def _gated(self) -> AsyncIterator[None]:
        if self.gate is None:
            yield
            return
        async with self.gate:
            yield

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Reading]:
        """A short transaction for one read (a root query or one loader batch); it ends (rolls
        back) with the block."""
        async with self._gated(), self.session() as session:
            reading = Reading(session, self.tenant_id)
            await reading.begin()
            yield reading

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[UnitOfWork]:
        """One unit of work: commits once at the end of the block (with the events it
        recorded); an error in the block rolls it back as the session closes."""
        async with self._gated(), self.session() as session:
            uow = UnitOfWork(session, self.tenant_id, self.actor_id, self.writes.before_commit)
            await uow.begin()
            yield uow
            self.writes.committing = True  # the commit goes out now
            await uow.commit()

    @asynccontextmanager
    async def rehearsing(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work that never commits: its statements run, and are rolled back with the
        block, its events dropped (a dry run does exactly what the write would, and keeps
        nothing)."""
        async with self._gated(), self.session() as session:
            uow = UnitOfWork(session, self.tenant_id, self.actor_id)
            await uow.begin()
            try:
                yield uow
            finally:
                await session.rollback()

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
    """A session outside any tenant, as the role `crm_system` (every tenant's rows, with the
    privileges alembic 0008 grants it): for provisioning tenants and members, and for the
    crons' reads across tenants (which tenants have due activities, ERP-tagged records, a
    Lexware key). It records no events: what it writes is bookkeeping, not a change of a
    tenant's records."""
    async with sessions() as session, session.begin():
        session.info[SYSTEM_KEY] = True
        await begin_as_system(session)
        yield session
