"""ARQ worker settings: the cron jobs and what they share (database, relay). Thin: the work is
in app/services."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from arq import cron, func
from arq.connections import RedisSettings
from arq.typing import WorkerCoroutine

from app.data.engine import DatabaseLimits, create_engine, create_session_factory
from app.events.relay import Relay
from app.heartbeat import record_heartbeat
from app.lexware.connector import LexwareConnector
from app.services.activities.reminders import send_due_soon_reminders
from app.services.idempotency.service import purge_expired
from app.services.trash.service import purge_expired_trash
from app.settings import Settings
from app.telemetry import tracing
from app.telemetry.exposition import start_listener
from jobs.lexware import enqueue_erp_pushes, erp_push, erp_push_record, voucher_sync
from jobs.observed import observed
from jobs.request_ids import cron_run

QUEUE = "insight-crm:jobs"
EVERY_QUARTER_HOUR = {0, 15, 30, 45}
EVERY_FOURTH_HOUR = {0, 4, 8, 12, 16, 20}


async def heartbeat(ctx: dict[str, Any]) -> None:
    """Lets health checks and operators see that a worker is alive."""
    await record_heartbeat(ctx["redis"])


async def due_soon(ctx: dict[str, Any]) -> int:
    """crm.activity.due_soon for activities due within the window (once per due date)."""
    settings: Settings = ctx["settings"]
    window = timedelta(minutes=settings.due_soon_window_minutes)
    return await send_due_soon_reminders(ctx["sessions"], window)


async def purge_idempotency_keys(ctx: dict[str, Any]) -> str:
    """Delete expired idempotency keys (claims ignore them already: this keeps the table small)."""
    return f"{await purge_expired(ctx['sessions'])} expired idempotency key(s) purged"


async def purge_trash(ctx: dict[str, Any]) -> str:
    """Purge what has been in the trash longer than TRASH_RETENTION_DAYS (with its events)."""
    settings: Settings = ctx["settings"]
    retention = timedelta(days=settings.trash_retention_days)
    return f"{await purge_expired_trash(ctx['sessions'], retention)} trashed record(s) purged"


# Every run counted and timed by outcome (jobs/observed.py) and, with tracing on, a span
# (app/telemetry/tracing.py): a queued job's under the request that queued it, a cron's a root
# of its own; a cron run also logs under a request id of its own (jobs/request_ids.py).
def queued(job: Callable[..., Coroutine[Any, Any, Any]]) -> WorkerCoroutine:
    return observed(tracing.traced_job(job))


def scheduled(job: Callable[..., Coroutine[Any, Any, Any]]) -> WorkerCoroutine:
    return observed(cron_run(tracing.traced_cron(job)))


JOBS = {
    "due-soon": due_soon,
    "idempotency-purge": purge_idempotency_keys,
    "heartbeat": heartbeat,
    "voucher-sync": voucher_sync,
    "erp-push": erp_push,
    "trash-purge": purge_trash,
}


def worker_settings(
    settings: Settings,
    redis_settings: RedisSettings,
    *,
    with_relay: bool = True,
    with_metrics: bool = False,
) -> dict[str, Any]:
    """ARQ's settings; `with_relay` runs an event relay in the worker (not needed when the
    worker lives inside a server process, which has one); `with_metrics` serves /metrics on
    METRICS_PORT when it is set (the standalone worker; a server process has its own)."""
    database_url = str(settings.database_url)
    limits = DatabaseLimits.for_jobs(settings)

    async def startup(ctx: dict[str, Any]) -> None:
        engine = create_engine(database_url, pool_size=2, limits=limits)
        ctx.update(settings=settings, engine=engine, sessions=create_session_factory(engine))
        ctx["lexware"] = LexwareConnector(settings, ctx["redis"])
        ctx["listener"] = asyncio.create_task(enqueue_erp_pushes(ctx["redis"]))
        if with_relay:  # the crons' events go out even when no server process runs
            relay = Relay(create_engine(database_url, pool_size=1, limits=limits), ctx["redis"])
            ctx.update(relay=relay, relay_task=asyncio.create_task(relay.run()))
        if with_metrics and settings.metrics_port is not None:
            backlog = [ctx["relay"].report_backlog] if with_relay else []
            ctx["metrics"] = await start_listener(
                settings.metrics_host, settings.metrics_port, backlog
            )

    async def shutdown(ctx: dict[str, Any]) -> None:
        if "metrics" in ctx:
            await ctx["metrics"].close()
        ctx["listener"].cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ctx["listener"]
        await ctx["lexware"].close()
        if "relay_task" in ctx:
            ctx["relay_task"].cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ctx["relay_task"]
            await ctx["relay"].close()
        await ctx["engine"].dispose()

    return {
        "functions": [
            queued(heartbeat),
            queued(due_soon),
            queued(purge_idempotency_keys),
            func(queued(voucher_sync), timeout=3 * 3600),
            func(queued(erp_push), timeout=25 * 60),
            func(
                queued(erp_push_record), keep_result=0, timeout=600
            ),  # its job id frees up when it is done
        ],
        "cron_jobs": [
            cron(scheduled(heartbeat), second=0, run_at_startup=True, unique=True),
            # unique: one run per tick across workers; the claim makes each reminder once.
            cron(
                scheduled(due_soon),
                minute=EVERY_QUARTER_HOUR,
                second=0,
                run_at_startup=True,
                unique=True,
            ),
            # ARQ would cancel a job after 5 minutes; a first voucher sync can take longer.
            cron(
                scheduled(voucher_sync),
                hour=EVERY_FOURTH_HOUR,
                minute=5,
                second=0,
                unique=True,
                timeout=3 * 3600,
            ),
            cron(scheduled(erp_push), minute={10, 40}, second=0, unique=True, timeout=25 * 60),
            cron(scheduled(purge_idempotency_keys), minute=20, second=0, unique=True),  # hourly
            cron(scheduled(purge_trash), minute=50, second=0, unique=True),  # hourly
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": redis_settings,
        "queue_name": QUEUE,
        "health_check_key": "insight-crm:worker:health",
    }
