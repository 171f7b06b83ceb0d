"""The `insight-crm` command line."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import typer
from sqlalchemy.exc import SQLAlchemyError

from app.settings import Settings, SettingsError, load_settings

cli = typer.Typer(
    help="insight-crm: a multi-tenant CRM API server (GraphQL over PostgreSQL and Redis).",
    no_args_is_help=True,
    add_completion=False,
)
log = logging.getLogger("insight_crm")

DataDirOption = Annotated[
    Path | None,
    typer.Option(help="Data dir of the embedded servers and dev keys [default: ./.insight-crm]"),
]
ROLES = ("admin", "member", "viewer")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _settings(data_dir: Path | None) -> Settings:
    try:
        return load_settings(**({"data_dir": data_dir} if data_dir else {}))
    except SettingsError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _migrate(database_url: str) -> None:
    """Upgrade to head with a readable message when the database cannot be reached."""
    from app.migrations import upgrade_to_head

    try:
        upgrade_to_head(database_url)
    except (OSError, SQLAlchemyError) as error:
        _fail(f"cannot migrate the database ({type(error).__name__}: {error})")


@contextmanager
def _servers(settings: Settings) -> Iterator[Settings]:
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
    with embedded:
        yield settings.with_servers(
            str(settings.database_url or embedded.database_url),
            str(settings.redis_url or embedded.redis_url),
        )


class _StopRequested(Exception):
    """Ctrl-C or SIGTERM: unwind so that embedded servers are stopped on the way out."""


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    raise _StopRequested


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """uvicorn shuts down gracefully on a signal and then re-raises it with the previous
    handler; with Python's defaults that would end the process before `finally` blocks run.
    Our handler turns the signal into an exception, so cleanup runs and the exit code is 0."""
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except _StopRequested:
        log.info("stopped by signal")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    data_dir: DataDirOption = None,
    worker: Annotated[
        bool | None,
        typer.Option(
            "--worker/--no-worker",
            help="Also run the cron worker in this process [default: on with embedded servers]",
        ),
    ] = None,
) -> None:
    """Run the GraphQL server (embedded PostgreSQL + Redis unless DATABASE_URL/REDIS_URL set)."""
    import uvicorn

    from app.asgi import create_app
    from app.keys import verification_keys

    settings = _settings(data_dir)
    _configure_logging(settings.log_level)
    try:
        verification_keys(settings)  # a bad key configuration stops us before anything starts
    except SettingsError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    with _stop_on_signals(), _servers(settings) as ready:
        _migrate(str(ready.database_url))
        with_worker = ready.embedded if worker is None else worker
        app = create_app(ready, with_worker=with_worker)
        typer.echo(f"insight-crm: GraphiQL at http://{host}:{port}/graphql")
        uvicorn.run(app, host=host, port=port, log_level=settings.log_level, access_log=False)


@cli.command()
def migrate(data_dir: DataDirOption = None) -> None:
    """Upgrade the database schema to the newest migration."""
    settings = _settings(data_dir)
    with _servers(settings) as ready:
        _migrate(str(ready.database_url))
    typer.echo("database is at the newest migration")


@cli.command()
def worker(
    data_dir: DataDirOption = None,
    burst: Annotated[bool, typer.Option(help="Run due jobs once, then exit.")] = False,
) -> None:
    """Run the ARQ worker with the cron jobs."""
    from arq.worker import Worker

    from app.redis import arq_redis_settings
    from jobs.worker import worker_settings

    settings = _settings(data_dir)
    _configure_logging(settings.log_level)
    with _servers(settings) as ready:
        _migrate(str(ready.database_url))
        options = worker_settings(ready, arq_redis_settings(str(ready.redis_url)))
        Worker(**options, burst=burst).run()


@cli.command("run-job")
def run_job(
    name: Annotated[str, typer.Argument(help="due-soon, voucher-sync, erp-push or heartbeat")],
    data_dir: DataDirOption = None,
) -> None:
    """Run one job now, by hand (jobs are idempotent: running one twice does no harm)."""
    from jobs.run import run_once
    from jobs.worker import JOBS

    if name not in JOBS:
        _fail(f"unknown job {name!r} (jobs: {', '.join(sorted(JOBS))})")
    settings = _settings(data_dir)
    _configure_logging(settings.log_level)
    with _servers(settings) as ready:
        _migrate(str(ready.database_url))
        result = asyncio.run(run_once(ready, name))
        typer.echo(f"{name}: {result}")


@cli.command()
def token(
    tenant: Annotated[str, typer.Option(help="Tenant slug, e.g. demo.")],
    user: Annotated[str, typer.Option(help="E-mail address of the user.")],
    role: Annotated[str, typer.Option(help="admin, member or viewer.")] = "admin",
    ttl: Annotated[str, typer.Option(help="Lifetime: 30m, 8h, 7d ...")] = "8h",
    data_dir: DataDirOption = None,
) -> None:
    """Print a development JWT that a server on the same data dir accepts."""
    from app.keys import DevTokenRequest, parse_ttl, sign_dev_token

    settings = _settings(data_dir)
    if settings.has_configured_key:
        typer.echo("error: a JWT key is configured; tokens come from your auth service", err=True)
        raise typer.Exit(2)
    problems = [
        "role must be admin, member or viewer" if role not in ROLES else "",
        "tenant must be a slug (a-z, 0-9, -)" if not _SLUG.match(tenant) else "",
        "user must be an e-mail address" if not _EMAIL.match(user) else "",
    ]
    try:
        seconds = parse_ttl(ttl)
    except ValueError as error:
        problems.append(str(error))
    if any(problems):
        typer.echo("error: " + "; ".join(p for p in problems if p), err=True)
        raise typer.Exit(2)
    typer.echo(sign_dev_token(settings, DevTokenRequest(tenant, user, role, seconds)))


@cli.command("export-schema")
def export_schema(
    path: Annotated[Path, typer.Option(help="Where to write the SDL.")] = Path("schema.graphql"),
) -> None:
    """Write the GraphQL schema (SDL) exported from code."""
    from resolvers.schema import schema_sdl

    path.write_text(schema_sdl())
    typer.echo(f"wrote {path}")


@cli.command("seed-demo")
def seed_demo(
    tenant: Annotated[str, typer.Option(help="Tenant slug to fill.")] = "demo",
    data_dir: DataDirOption = None,
) -> None:
    """Fill a demo tenant with German B2B sample data (idempotent)."""
    from app.db import DatabaseLimits, create_engine, create_session_factory
    from app.services.demo import seed_demo_tenant

    if not _SLUG.match(tenant):
        _fail("tenant must be a slug (a-z, 0-9, -), as tokens carry it")
    settings = _settings(data_dir)
    with _servers(settings) as ready:
        _migrate(str(ready.database_url))

        async def run() -> str:
            limits = DatabaseLimits.for_jobs(ready)
            engine = create_engine(str(ready.database_url), pool_size=2, limits=limits)
            try:
                return await seed_demo_tenant(create_session_factory(engine), tenant)
            finally:
                await engine.dispose()

        typer.echo(asyncio.run(run()))


@cli.command("fake-lexware")
def fake_lexware(
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1.")] = 8099,
    api_key: Annotated[
        list[str] | None, typer.Option("--api-key", help="A key it accepts (repeatable).")
    ] = None,
) -> None:
    """A local fake of the Lexware Office API (demo data, 2 req/s) to try the integration:
    point LEXWARE_BASE_URL at it and use one of its keys."""
    from app.lexware.fake import run_fake

    keys = api_key or ["demo-lexware-key-0000"]
    typer.echo(f"fake Lexware at http://127.0.0.1:{port} (keys: {', '.join(keys)})")
    run_fake("127.0.0.1", port, keys)


def main() -> None:
    cli()
