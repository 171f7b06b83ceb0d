"""The `insight-crm` command line (shared plumbing in app/cli_support.py)."""

from __future__ import annotations

import asyncio
import re
from contextlib import nullcontext
from importlib.metadata import entry_points
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated

import typer
from redis.exceptions import RedisError

from app.cli_support import (
    DataDirOption,
    PortOption,
    VerboseOption,
    check_can_listen,
    check_metrics_can_listen,
    configure_logging,
    fail,
    load,
    migrate,
    recording_serve_url,
    say,
    serve_url,
    servers,
    stop_on_signals,
    usage_error,
)
from app.settings import SettingsError
from app.telemetry import tracing

cli = typer.Typer(
    help="insight-crm: a multi-tenant CRM API server (GraphQL over PostgreSQL and Redis).",
    no_args_is_help=True,
    add_completion=False,
)

ROLES = ("admin", "member", "viewer")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COMMANDS_GROUP = "insight_crm.commands"  # entry points: commands other packages add


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"insight-crm {package_version('insight-crm')}")
        raise typer.Exit()


@cli.callback()
def main_options(
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """insight-crm: a multi-tenant CRM API server (GraphQL over PostgreSQL and Redis)."""


def _browsable(host: str) -> str:
    """The host part of a URL a browser on this machine can open."""
    if host in ("0.0.0.0", ""):  # noqa: S104  (only displayed, not bound)
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: PortOption = 8000,
    data_dir: DataDirOption = None,
    worker: Annotated[
        bool | None,
        typer.Option(
            "--worker/--no-worker",
            help="Also run the cron worker in this process.",
            show_default="on with embedded servers",
        ),
    ] = None,
    verbose: VerboseOption = False,
) -> None:
    """Run the GraphQL server (embedded PostgreSQL + Redis unless DATABASE_URL/REDIS_URL set)."""
    import uvicorn

    from app.keys import verification_keys
    from app.web.asgi import create_app, websocket_message_limit
    from app.web.trusted_manifest import load_manifest

    settings = load(data_dir)
    uvicorn_level = configure_logging(settings.log_level, verbose, log_format=settings.log_format)
    check_can_listen(host, port)
    check_metrics_can_listen(settings, port)
    try:
        load_manifest(settings)  # a trusted documents' manifest we cannot use stops us, and
        verification_keys(settings)  # a bad key configuration, before anything starts
    except SettingsError as error:
        usage_error(str(error))
    with stop_on_signals(), servers(settings) as ready:
        migrate(ready)
        with_worker = ready.embedded if worker is None else worker
        app = create_app(ready, with_worker=with_worker)
        url = f"http://{_browsable(host)}:{port}/graphql"
        where = "GraphiQL" if ready.graphiql_enabled else "GraphQL (GraphiQL off)"
        say(f"{where} at {url} (cron worker {'on' if with_worker else 'off'}; Ctrl-C stops)")
        recording = recording_serve_url(ready.data_dir, url) if ready.embedded else nullcontext()
        with recording:
            uvicorn.run(
                app,
                host=host,
                port=port,
                log_level=uvicorn_level,
                log_config=None,  # its lines through our handler (app/telemetry/logs.py)
                access_log=False,  # ours is one line per request with more (app/web/served.py)
                ws_max_size=websocket_message_limit(ready),
            )


@cli.command("migrate")
def migrate_database(data_dir: DataDirOption = None, verbose: VerboseOption = False) -> None:
    """Upgrade the database schema to the newest migration."""
    settings = load(data_dir)
    configure_logging(settings.log_level, verbose, log_format=settings.log_format)
    with servers(settings) as ready:
        migrate(ready)


@cli.command()
def worker(
    data_dir: DataDirOption = None,
    burst: Annotated[bool, typer.Option(help="Run due jobs once, then exit.")] = False,
    verbose: VerboseOption = False,
) -> None:
    """Run the ARQ worker with the cron jobs."""
    from arq.worker import Worker

    from app.redis import arq_redis_settings
    from jobs.worker import worker_settings

    settings = load(data_dir)
    configure_logging(settings.log_level, verbose, log_format=settings.log_format)
    check_metrics_can_listen(settings)
    with stop_on_signals(), servers(settings) as ready:
        migrate(ready)
        with tracing.running(ready):  # flushed when the worker stops
            options = worker_settings(
                ready, arq_redis_settings(str(ready.redis_url), ready), with_metrics=True
            )
            say("worker: running due jobs once" if burst else "worker: running (Ctrl-C stops)")
            try:
                Worker(**options, burst=burst).run()
            except (OSError, RedisError) as error:
                fail(f"the worker cannot reach Redis ({type(error).__name__}: {error})")


@cli.command("run-job")
def run_job(
    name: Annotated[
        str, typer.Argument(help="due-soon, voucher-sync, erp-push, idempotency-purge or heartbeat")
    ],
    data_dir: DataDirOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Run one job now, by hand (jobs are idempotent: running one twice does no harm)."""
    from jobs.run import run_once
    from jobs.worker import JOBS

    if name not in JOBS:
        usage_error(f"unknown job {name!r} (jobs: {', '.join(sorted(JOBS))})")
    settings = load(data_dir)
    configure_logging(settings.log_level, verbose, log_format=settings.log_format)
    with servers(settings) as ready:
        migrate(ready)
        try:
            with tracing.running(ready):  # the job's span, sent before the command ends
                result = asyncio.run(run_once(ready, name))
        except (OSError, RedisError) as error:
            fail(f"{name} cannot reach Redis ({type(error).__name__}: {error})")
        typer.echo(f"{name}: {_outcome(result)}")


def _outcome(result: object) -> str:
    """A job's result as a line: the Lexware crons describe themselves, due-soon counts."""
    if result is None:
        return "done"
    if isinstance(result, int):
        return f"{result} reminder(s) sent"
    return str(result)


@cli.command()
def token(
    tenant: Annotated[str, typer.Option(help="Tenant slug, e.g. demo.")],
    user: Annotated[str, typer.Option(help="E-mail address of the user.")],
    role: Annotated[str, typer.Option(help="admin, member or viewer.")] = "admin",
    ttl: Annotated[str, typer.Option(help="Lifetime: 30m, 8h, 7d ... (at most 365d)")] = "8h",
    data_dir: DataDirOption = None,
) -> None:
    """Print a development JWT that a server on the same data dir accepts."""
    from app.keys import DevTokenRequest, parse_ttl, sign_dev_token

    settings = load(data_dir, uses_data_dir=True)
    if settings.has_configured_key:
        usage_error("a JWT key is configured; tokens come from your auth service")
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
        usage_error("; ".join(p for p in problems if p))
    typer.echo(sign_dev_token(settings, DevTokenRequest(tenant, user, role, seconds)))


@cli.command("export-schema")
def export_schema(
    path: Annotated[Path, typer.Option(help="Where to write the SDL.")] = Path("schema.graphql"),
) -> None:
    """Write the GraphQL schema (SDL) exported from code."""
    from resolvers.schema import schema_sdl

    try:
        path.write_text(schema_sdl())
    except OSError as error:
        usage_error(f"cannot write {path}: {error.strerror or error}")
    typer.echo(f"wrote {path}")


@cli.command("seed-demo")
def seed_demo(
    tenant: Annotated[str, typer.Option(help="Tenant slug to fill.")] = "demo",
    data_dir: DataDirOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Fill a tenant with German B2B sample data: what is missing is added, nothing is changed.

    Six companies (VAT ids, addresses, industries, account types, half of them tagged ERP),
    a contact person each with e-mail and phone, the pipeline "Vertrieb" with six stages, a
    deal and two activities per company, two relationships and three contracts; the demo
    admin (demo-admin@example.de) owns them. Records are matched by name (companies also by
    VAT id), so a second run adds nothing, and a tenant with data of its own keeps it: a
    company that has a demo company's name or VAT id is used as that company.
    """
    from app.data.engine import DatabaseLimits, create_engine, create_session_factory
    from app.demo import seed_demo_tenant

    if not _SLUG.match(tenant):
        usage_error("tenant must be a slug (a-z, 0-9, -), as tokens carry it")
    settings = load(data_dir)
    configure_logging(settings.log_level, verbose, log_format=settings.log_format)
    with servers(settings) as ready:
        migrate(ready)

        async def run() -> str:
            limits = DatabaseLimits.for_jobs(ready)
            engine = create_engine(str(ready.database_url), pool_size=2, limits=limits)
            try:
                return await seed_demo_tenant(create_session_factory(engine), tenant)
            finally:
                await engine.dispose()

        typer.echo(asyncio.run(run()))


@cli.command()
def urls(data_dir: DataDirOption = None) -> None:
    """Where the embedded PostgreSQL, Redis and GraphiQL listen, and how to reach them.

    Reads the data dir and starts nothing: run it while `serve` runs."""
    from app.embedded import postgres_state, redis_state

    settings = load(data_dir)
    directory = settings.data_dir.absolute()
    typer.echo(f"data dir:    {directory}")
    for name, configured, state in (
        ("PostgreSQL", settings.database_url, postgres_state),
        ("Redis", settings.redis_url, redis_state),
    ):
        if configured:
            typer.echo(f"{name + ':':<12} external, {_without_password(configured)}")
            if name == "PostgreSQL" and settings.migration_database_url:
                owner = _without_password(settings.migration_database_url)
                typer.echo(f"  owner:     {owner} (migrations)")
            continue
        found = state(directory)
        if not found.running:
            typer.echo(f"{name + ':':<12} not running (serve, migrate, worker, seed-demo start it)")
            continue
        typer.echo(f"{name + ':':<12} running (pid {found.pid}), on a Unix socket only")
        typer.echo(f"  url:       {found.url}")
        if found.owner_url:
            typer.echo(f"  owner:     {found.owner_url} (migrations)")
        typer.echo(f"  client:    {found.client}")
    if settings.embedded:
        graphql = serve_url(directory) or "not running (insight-crm serve)"
    else:
        graphql = "not recorded (serve notes its address only with embedded servers)"
    typer.echo(f"GraphiQL:    {graphql}")


def _without_password(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if not parts.password:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


def _add_contributed_commands() -> None:
    """Commands that other installed packages contribute through the entry point group
    `insight_crm.commands` (name: the command, value: its typer function). The fake Lexware's
    `fake-lexware` comes this way: it is tooling around the server, installed with it but no
    part of it, so nothing in app/ imports it (pyproject.toml's import contracts)."""
    ours = {_command_name(info) for info in cli.registered_commands}
    for entry in sorted(entry_points(group=COMMANDS_GROUP), key=lambda entry: entry.name):
        if entry.name in ours:  # another package must not replace one of ours
            say(f"ignoring the contributed command {entry.name!r}: insight-crm has its own")
            continue
        try:
            command = entry.load()
        except Exception as error:  # a stale or broken install must not break serve or migrate
            say(f"ignoring the contributed command {entry.name!r}: {type(error).__name__}: {error}")
            continue
        cli.command(entry.name)(command)


def _command_name(info: typer.models.CommandInfo) -> str:
    """A command's name as typer shows it: given, or its function's with dashes."""
    if info.name:
        return info.name
    callback = info.callback
    return "" if callback is None else callback.__name__.replace("_", "-")


_add_contributed_commands()  # after our own: `--help` lists commands in this order


def main() -> None:
    cli()
