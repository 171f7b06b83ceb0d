"""The request pool's connections by state (`crm_db_pool_connections`), read at scrape time.

SQLAlchemy's pool tells how many connections are checked out and idle, not how many tasks
queue for one: `WatchedPool` counts those itself (one integer, only while the pool and its
overflow are all in use), around the pool's own checkout, `_do_get` (the one private method
it overrides; tests/test_library_internals.py checks that it still is the way). A process
reports the pools registered with `report_pool` (its request engine; in the tests, each
app's), summed.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry

from app.telemetry.metrics import DB_POOL_CONNECTIONS

STATES = ("in_use", "idle", "waiting")


class WatchedPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio pool, counting the checkouts that wait for a connection to come
    back (every connection and the overflow in use: the only case in which a checkout queues)."""

    def __init__(self, creator: Any, *, max_overflow: int = 10, **kwargs: Any) -> None:
        super().__init__(creator, max_overflow=max_overflow, **kwargs)
        self._most_overflow = max_overflow  # kept: the pool has no public accessor for it
        self.waiting = 0

    def _do_get(self) -> ConnectionPoolEntry:
        if self._most_overflow < 0 or self.overflow() < self._most_overflow:
            return super()._do_get()
        self.waiting += 1
        try:
            return super()._do_get()
        finally:
            self.waiting -= 1


# SQLAlchemy logs a pool's life (created, disposed, recreated) at INFO under its class's own
# name, and keeps its own `sqlalchemy` loggers at WARNING unless told: so do we for this one.
_pool_log = logging.getLogger(f"{__name__}.{WatchedPool.__name__}")
if _pool_log.level == logging.NOTSET:
    _pool_log.setLevel(logging.WARNING)

# The engines reported, held weakly: an app that is never closed does not stay alive for us.
_engines: weakref.WeakSet[Any] = weakref.WeakSet()


def report_pool(engine: AsyncEngine) -> Callable[[], None]:
    """Report `engine`'s pool (read at each scrape; `dispose` replaces the pool, so it is
    looked up each time); returns the call that stops reporting it."""
    _engines.add(engine.sync_engine)
    return lambda: _engines.discard(engine.sync_engine)


def _states() -> dict[str, int]:
    totals = dict.fromkeys(STATES, 0)
    for engine in list(_engines):
        pool = engine.pool
        if isinstance(pool, AsyncAdaptedQueuePool):
            totals["in_use"] += pool.checkedout()
            totals["idle"] += pool.checkedin()
        if isinstance(pool, WatchedPool):
            totals["waiting"] += pool.waiting
    return totals


def _sampler(state: str) -> Callable[[], float]:
    return lambda: float(_states()[state])


for _state in STATES:
    DB_POOL_CONNECTIONS.labels(state=_state).set_function(_sampler(_state))
