"""A tenant's transaction as the services use it: `Reading` for a read, `UnitOfWork` for a write.

Everything a service sends to the database goes through one of them, and each step is code a
reader can follow from the service down:

1. `TenantScope.reading()` / `.writing()` (app.data.tenancy) open a session and call `begin()`:
   BEGIN, the transaction's tenant (`app.tenant_id`) and the role `crm_tenant`, whose
   row-level security policies back the filter (alembic 0005), in one round trip.
2. `execute_rows()` and `execute()` add the tenant filter to the statement
   (`tenant_filter.filtered`; trashed rows hidden unless `with_trashed=True`) and its tenant
   to the parameters, check the statement (no Core access to tenant tables), and run it in
   that transaction.
3. A write records its events with `record()` (`app.data.changes` builds them from the rows).
4. `commit()` numbers and stores the recorded events in the outbox in the same transaction,
   commits, then wakes the process's event relay (`outbox.announce_committed`). A unit of work
   that fails before its commit rolls back, and its events go with it.

The session's listeners (app.data.tenancy) only guard: they refuse a statement of a tenant's
session that did not come through here, and a transaction that did not begin here.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVarTuple, overload

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import Executable
from sqlalchemy.sql.selectable import TypedReturnsRows
from sqlalchemy.util.typing import TupleAny

from app import internals
from app.data.tenant_filter import (
    TenantScopeError,
    filtered,
    insert_reads,
    refuse_unscoped_rows,
    with_tenant,
)
from app.events import outbox
from app.events.outbox import PendingEvent
from models import roles

# The execution option `execute()` passes with each call: the session's guard refuses a
# tenant's statement whose call does not carry this very object (it did not get the filter).
THROUGH_SCOPE = "crm_through_scope"
THROUGH_SCOPE_MARK = object()
# Set while `begin()` opens the transaction: the guard refuses one that begins without it.
BEGINNING_KEY = "crm_beginning"

TENANT_ROLE = roles.TENANT_ROLE
TENANT_SETTING = (
    f"SELECT set_config('app.tenant_id', %s, true), set_config('role', '{TENANT_ROLE}', true)"
)

Parameters = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None
# Runs in a unit of work's transaction right before its COMMIT (TenantScope.writes): what must
# commit with the writes or not at all, such as the request's idempotency key marked committed.
CommitHook = Callable[["UnitOfWork"], Awaitable[None]]
_Ts = TypeVarTuple("_Ts")


def begin_with_tenant_sql(tenant_id: uuid.UUID, *, read_only: bool = False) -> str:
    """BEGIN and the tenant setting as one message (the simple query protocol takes both). A
    UUID's text is hex and dashes: safe inline, and it saves a round trip."""
    tenant = repr(str(uuid.UUID(str(tenant_id))))
    return f"BEGIN{' READ ONLY' if read_only else ''}; {TENANT_SETTING % tenant}"


class Reading:
    """One transaction of a tenant's session, for reads (the base of `UnitOfWork`)."""

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def begin(self) -> None:
        """Open the transaction with the tenant set. SQLAlchemy's asyncpg adapter would send
        BEGIN (lazily, before the first statement) and the setting as two round trips; on a
        plain transaction not yet begun on the adapter, both go as one message."""
        self.session.info[BEGINNING_KEY] = True
        try:
            connection = await self.session.connection()
        finally:
            del self.session.info[BEGINNING_KEY]
        if not await _begin_in_one_round_trip(connection, begin_with_tenant_sql(self.tenant_id)):
            setting = sa.text(TENANT_SETTING % ":tenant")
            await connection.execute(setting, {"tenant": str(self.tenant_id)})

    @overload
    async def execute_rows(
        self,
        statement: TypedReturnsRows[*_Ts],
        parameters: Mapping[str, Any] | None = None,
        *,
        with_trashed: bool = False,
    ) -> Result[*_Ts]: ...
    @overload
    async def execute_rows(
        self,
        statement: Executable,
        parameters: Mapping[str, Any] | None = None,
        *,
        with_trashed: bool = False,
    ) -> Result[*TupleAny]: ...
    async def execute_rows(
        self,
        statement: Executable,
        parameters: Mapping[str, Any] | None = None,
        *,
        with_trashed: bool = False,
    ) -> Result[*TupleAny]:
        """Rows of a column statement (a SELECT of columns, an INSERT, UPDATE or DELETE with
        RETURNING columns), run on the session's connection: the same SQL as `execute` gives
        it, without the ORM's per-execution work. The ORM annotates a fresh copy of every
        UPDATE, INSERT and DELETE, so SQLAlchemy keys and looks up its compiled form anew each
        time: half a small update's cost. `with_trashed`: trashed rows are not hidden
        (tenant_filter.NOT_TRASHED), for the trash list, restore and purge."""
        if isinstance(statement, sa.Insert) and not insert_reads(statement):
            # A plain INSERT binds no tenant (a parameter it does not bind would be taken for a
            # column); its values carry the tenant (`TenantScope.owned`).
            prepared, values = statement, dict(parameters or {})
        else:
            prepared = filtered(statement, with_trashed=with_trashed)
            values = with_tenant(parameters, self.tenant_id)
        refuse_unscoped_rows(prepared)
        connection = await self.session.connection()
        return await connection.execute(prepared, values)

    @overload
    async def execute(
        self,
        statement: TypedReturnsRows[*_Ts],
        parameters: Parameters = None,
        *,
        with_trashed: bool = False,
    ) -> Result[*_Ts]: ...
    @overload
    async def execute(
        self, statement: Executable, parameters: Parameters = None, *, with_trashed: bool = False
    ) -> Result[*TupleAny]: ...
    async def execute(
        self, statement: Executable, parameters: Parameters = None, *, with_trashed: bool = False
    ) -> Result[*TupleAny]:
        """A statement through the ORM: one that loads entities, a text statement, or an
        INSERT with a list of rows. SELECT, UPDATE and DELETE get the tenant filter here (and
        the trash's, unless `with_trashed`)."""
        scoped = isinstance(statement, sa.Select | sa.Update | sa.Delete | sa.CompoundSelect)
        if scoped:
            if isinstance(parameters, Sequence):  # the ORM's bulk UPDATE by key skips filters
                raise TenantScopeError("bulk UPDATE or DELETE by primary key is not tenant-scoped")
            statement = filtered(statement, with_trashed=with_trashed)
            parameters = with_tenant(parameters, self.tenant_id)
        elif isinstance(statement, sa.Insert) and insert_reads(statement):
            # The ORM takes every parameter of an INSERT for a column: the tenant's cannot go in.
            raise TenantScopeError("an INSERT that reads rows runs through execute_rows")
        options = {THROUGH_SCOPE: THROUGH_SCOPE_MARK}
        return await self.session.execute(statement, parameters, execution_options=options)


class UnitOfWork(Reading):
    """One write of a tenant: its statements, the events they make, and one commit."""

    def __init__(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        actor_id: uuid.UUID | None,
        before_commit: CommitHook | None = None,
    ) -> None:
        super().__init__(session, tenant_id)
        self.actor_id = actor_id
        self.events: list[PendingEvent] = []
        self.before_commit = before_commit

    def record(
        self,
        type_: str,
        entity: str,
        entity_id: uuid.UUID,
        changes: Mapping[str, Any] | None = None,
    ) -> None:
        """An event of this unit of work: stored in the outbox by its commit, or never."""
        self.events.append(PendingEvent(type_, entity, entity_id, changes or {}))

    async def commit(self) -> None:
        """The commit hook and the events into the outbox, COMMIT, then the relay woken to
        publish them."""
        if self.before_commit is not None:
            await self.before_commit(self)
        events, self.events = self.events, []
        if events:
            connection = await self.session.connection()
            await outbox.write(connection, self.tenant_id, self.actor_id, events)
        await self.session.commit()
        if events:
            outbox.announce_committed()


async def begin_as_system(session: AsyncSession) -> None:
    """Open the session's transaction as `crm_system`, the role of the server's work across
    tenants (models.roles): BEGIN and the switch in one round trip, as a tenant's."""
    connection = await session.connection()
    if not await _begin_in_one_round_trip(connection, f"BEGIN; {roles.SYSTEM_SETTING}"):
        await connection.execute(sa.text(roles.SYSTEM_SETTING))


async def _begin_in_one_round_trip(connection: AsyncConnection, begin: str) -> bool:
    """BEGIN and the transaction's setting (`begin`: one message) on the asyncpg connection,
    recorded as the adapter's transaction so that SQLAlchemy commits or rolls it back. False
    (nothing sent) if the adapter is not in the plain state this needs; False after a failure
    (rolled back, the usual way meets the error again and reports it)."""
    # The connection is checked out already: its DBAPI side is at hand without the greenlet
    # switch `get_raw_connection()` costs (tests/test_compiled.py counts those).
    raw = connection.sync_connection.connection if connection.sync_connection else None
    adapter = None if raw is None else raw.dbapi_connection
    if not isinstance(adapter, AsyncAdapt_asyncpg_connection):
        return False
    driver = adapter.driver_connection
    plain = (  # default isolation, not read-only or deferrable, no transaction begun yet
        adapter.isolation_level is None
        and not adapter.readonly
        and not adapter.deferrable
        and internals.adapter_has_no_transaction(adapter)
    )
    if driver is None or not plain:
        return False
    # Recorded first: if this task is cancelled after BEGIN reached the server, the pool's
    # reset of the connection still rolls it back (and the tenant's role with it).
    internals.set_adapter_transaction(adapter, _BegunTransaction(driver))
    try:
        await driver.execute(begin)
    except Exception:  # the usual way meets it again, reports it and drops a dead connection
        internals.set_adapter_transaction(adapter, None)
        if not driver.is_closed():  # BEGIN may have run before the setting failed
            with contextlib.suppress(Exception):
                await driver.execute("ROLLBACK")
        return False
    return True


class _BegunTransaction:
    """Stands in for the asyncpg transaction that SQLAlchemy's asyncpg adapter keeps; the
    adapter only commits or rolls it back (and translates the driver's errors)."""

    def __init__(self, driver: Any) -> None:
        self._driver = driver

    async def commit(self) -> None:
        await self._driver.execute("COMMIT")

    async def rollback(self) -> None:
        await self._driver.execute("ROLLBACK")
