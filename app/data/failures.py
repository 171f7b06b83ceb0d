"""Database failures a client is told about, by name: the database cannot be reached
(`ServiceUnavailable`) or it cancelled a statement at its time limit (`Timeout`).

Anything else that goes wrong in the database is a bug of ours and stays masked. The
failures come as asyncpg's errors (the compiled read path talks to the driver), wrapped in
SQLAlchemy's (sessions), or as plain socket errors (connecting), so the whole chain of causes
is looked at.

Socket errors are named narrowly: a connection error (refused, reset, aborted, broken pipe:
`ConnectionError`, or Redis's own), or an OSError that asyncpg raised (connecting: no such
socket file, a name that does not resolve, a host that cannot be reached, the connect
timeout; and a command the server never answered, `command_timeout` in app/data/engine.py).
Any other
OSError, a TimeoutError or FileNotFoundError of our own code, is a bug and stays masked: it
must not hide behind a 503. A named failure is logged in one line (an outage would otherwise
fill the log with identical traces), its trace at debug level.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import asyncpg  # type: ignore[import-untyped]
from redis import exceptions as redis_exc
from sqlalchemy import exc as sa_exc

from app.errors import AppError, ServiceUnavailable, Timeout

log = logging.getLogger(__name__)
UNAVAILABLE_MESSAGE = "The database is not available at the moment; try again shortly."
# A socket error names no server (it may come from Redis in a subscription, say).
UNREACHABLE_MESSAGE = (
    "A service the server needs is not available at the moment; try again shortly."
)
STATEMENT_TIMEOUT_MESSAGE = (
    "The database did not finish the operation in time and cancelled it; try again shortly, "
    "or ask for less (a smaller page, fewer nested lists)."
)
LOCK_TIMEOUT_MESSAGE = (
    "Another operation holds a lock on data this one needs; it gave up waiting. Try again shortly."
)
_TIMEOUT_STATES = {
    "57014": STATEMENT_TIMEOUT_MESSAGE,  # query_canceled: statement_timeout (or a cancel)
    "55P03": LOCK_TIMEOUT_MESSAGE,  # lock_not_available: lock_timeout
}
# SQLSTATE classes and codes that mean "no database to talk to": connection exceptions,
# insufficient resources (too many connections, disk full), shutdown and "cannot connect
# now" (57P..), and what only a connection attempt meets (authentication, a missing database).
_UNAVAILABLE_STATES = ("08", "53", "57P", "28", "3D000")
_CHAIN_LIMIT = 8


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = error
    for _ in range(_CHAIN_LIMIT):
        if seen is None:
            return
        yield seen
        original = seen.orig if isinstance(seen, sa_exc.DBAPIError) else None
        seen = original if isinstance(original, BaseException) else seen.__cause__


def _lost_connection(error: BaseException) -> bool:
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, asyncpg.ConnectionDoesNotExistError):
        return True
    # What asyncpg raises on a connection the server closed; SQLAlchemy's asyncpg dialect
    # tells a disconnect by this same message.
    return isinstance(error, asyncpg.InterfaceError) and "connection is closed" in str(error)


def database_failure(error: BaseException) -> ServiceUnavailable | None:
    """The coded error for a database outage or timeout; None for anything else."""
    for cause in _causes(error):
        if isinstance(cause, AppError):  # already decided, whatever caused it
            return cause if isinstance(cause, ServiceUnavailable) else None
        state = getattr(cause, "sqlstate", None)
        if isinstance(state, str):
            if state in _TIMEOUT_STATES:
                return Timeout(_TIMEOUT_STATES[state])
            if state.startswith(_UNAVAILABLE_STATES):
                return ServiceUnavailable(UNAVAILABLE_MESSAGE)
        if isinstance(cause, sa_exc.TimeoutError) or _lost_connection(cause):
            # No pooled connection in time; a connection the server closed.
            return ServiceUnavailable(UNAVAILABLE_MESSAGE)
        if isinstance(cause, OSError) and _raised_by_the_driver(cause):
            return ServiceUnavailable(UNAVAILABLE_MESSAGE)
        if isinstance(cause, _CONNECTION_ERRORS):
            return ServiceUnavailable(UNREACHABLE_MESSAGE)
    return None


# A connection that failed, whichever server it was to (Redis wraps its socket errors).
_CONNECTION_ERRORS = (ConnectionError, redis_exc.ConnectionError, redis_exc.TimeoutError)


def _raised_by_the_driver(error: BaseException) -> bool:
    """Whether asyncpg raised it: its traceback passes through asyncpg's code (a TimeoutError
    of an `asyncio.timeout` of ours is raised in our frame, after asyncpg's have unwound)."""
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_globals.get("__name__", "").startswith("asyncpg."):
            return True
        trace = trace.tb_next
    return False


def log_failure(failure: ServiceUnavailable, error: BaseException, request_id: str = "-") -> None:
    """One warning line for a named failure, and its trace at debug level."""
    log.warning("%s [request %s]: %s", failure.code, request_id, summary(error))
    log.debug("%s [request %s], the trace:", failure.code, request_id, exc_info=error)


def summary(error: BaseException) -> str:
    """One log line for a named failure: its type and first line (SQLAlchemy's next lines
    hold the statement and its parameters)."""
    lines = str(error).splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


@asynccontextmanager
async def naming_database_failures() -> AsyncIterator[None]:
    """Re-raise a database outage or timeout as its coded error (outside GraphQL execution,
    whose error policy names them itself)."""
    try:
        yield
    except AppError:
        raise
    except Exception as error:
        failure = database_failure(error)
        if failure is None:
            raise
        log_failure(failure, error)
        raise failure from error
