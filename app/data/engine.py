"""Database engine and session factory (SQLAlchemy async over asyncpg)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.data.tenancy import CrmSession
from app.internals import driver_socket
from app.settings import Settings
from app.telemetry.pools import WatchedPool
from app.telemetry.record import count_statement

# How a transaction's tenant setup begins (app/data/unit_of_work.py TENANT_SETTING).
TENANT_SETUP_PREFIX = "SELECT set_config("


@dataclass(frozen=True)
class DatabaseLimits:
    """Time limits of an engine's connections, in seconds; 0 means none. PostgreSQL enforces
    the statement and lock timeouts itself (they go with the connection's startup message: no
    round trip), so a cancelled statement leaves a usable connection and an aborted transaction
    that rolls back. Connecting and waiting for a pooled connection are bounded on our side.

    A server that hangs (stopped, or behind a network that drops everything) enforces nothing,
    so each command is also bounded on our side (asyncpg's `command_timeout`), a little above
    the statement timeout: a statement the server cancels answers first, as TIMEOUT; the
    client's limit only fires when the server does not answer at all (SERVICE_UNAVAILABLE,
    app/data/failures.py). No statement timeout, no command timeout either."""

    statement_timeout: float = 0
    lock_timeout: float = 0
    connect_timeout: float = 60  # asyncpg's default
    pool_timeout: float = 30  # SQLAlchemy's default

    @classmethod
    def for_requests(cls, settings: Settings) -> DatabaseLimits:
        return cls(
            statement_timeout=settings.db_statement_timeout_seconds,
            lock_timeout=settings.db_lock_timeout_seconds,
            connect_timeout=settings.db_connect_timeout_seconds,
            pool_timeout=settings.db_pool_timeout_seconds,
        )

    @classmethod
    def for_jobs(cls, settings: Settings) -> DatabaseLimits:
        """The cron worker, run-job, seed-demo and the event relay: background work that may
        take longer per statement, and may queue for one of its few pooled connections."""
        return cls(
            statement_timeout=settings.db_job_statement_timeout_seconds,
            lock_timeout=settings.db_job_lock_timeout_seconds,
            connect_timeout=settings.db_connect_timeout_seconds,
        )

    @property
    def command_timeout(self) -> float | None:
        if self.statement_timeout <= 0:
            return None
        return self.statement_timeout + COMMAND_TIMEOUT_MARGIN

    def server_settings(self) -> dict[str, str]:
        return {
            "statement_timeout": _milliseconds(self.statement_timeout),
            "lock_timeout": _milliseconds(self.lock_timeout),
        }


# How much longer than the statement timeout a command may take before the client gives up on
# the server: the server's own cancellation (and its error) must have time to arrive first.
COMMAND_TIMEOUT_MARGIN = 1.0
# TCP keepalives on the connections to PostgreSQL: an idle pooled connection whose server host
# or network went away is found dead within about a minute (idle 30 s, then 3 probes 10 s
# apart), instead of at the next query or after the kernel's default of two hours.
KEEPALIVE = {"TCP_KEEPIDLE": 30, "TCP_KEEPINTVL": 10, "TCP_KEEPCNT": 3}


def _milliseconds(seconds: float) -> str:
    # PostgreSQL's unit for both settings; a positive limit never rounds down to 0 (= none).
    return str(max(1, round(seconds * 1000)) if seconds > 0 else 0)


def async_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use the asyncpg driver for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def create_engine(
    url: str, *, pool_size: int = 10, limits: DatabaseLimits | None = None
) -> AsyncEngine:
    """An engine whose connections carry `limits` (none given: PostgreSQL's own defaults, for
    tests and tools; the server and the jobs always pass theirs)."""
    limits = limits or DatabaseLimits()
    connect_args: dict[str, Any] = {
        "server_settings": {"application_name": "insight-crm", **limits.server_settings()},
        "timeout": limits.connect_timeout,
        "command_timeout": limits.command_timeout,
    }
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        pool_timeout=limits.pool_timeout,
        connect_args=connect_args,
        poolclass=WatchedPool,  # counts the checkouts that wait (crm_db_pool_connections)
    )
    event.listen(engine.sync_engine, "connect", _keep_alive)
    event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
    return engine


def _count_statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    """Each statement sent for the request being served (the compiled path's, which go to
    asyncpg directly, dispatch this event too); a transaction's tenant setup is not counted,
    like BEGIN and COMMIT."""
    if not statement.startswith(TENANT_SETUP_PREFIX):
        count_statement()


def _keep_alive(dbapi_connection: Any, _record: Any) -> None:
    """Turn TCP keepalives on for a new connection over TCP (not a Unix socket). asyncpg has
    no option for them: its socket is reached through the connection's transport."""
    sock = driver_socket(dbapi_connection.driver_connection)
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in KEEPALIVE.items():
        option = getattr(socket, name, None)  # Linux names; other systems keep their defaults
        if option is not None:
            sock.setsockopt(socket.IPPROTO_TCP, option, value)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=CrmSession)
