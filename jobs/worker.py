"""ARQ worker settings: the cron jobs and what they share (database, relay). Thin: the work is
in app/services."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from arq import cron, func
from arq.connections import RedisSettings

from app.data.engine import DatabaseLimits, create_engine, create_session_factory
from app.events.relay import Relay
from app.heartbeat import record_heartbeat
from app.lexware.connector import LexwareConnector
from app.services.activities.reminders import send_due_soon_reminders
from app.settings import Settings
from app.telemetry import tracing
from jobs.lexware import enqueue_erp_pushes, erp_push, erp_push_record, voucher_sync

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


JOBS = {
    "due-soon": due_soon,
    "heartbeat": heartbeat,
    "voucher-sync": voucher_sync,
    "erp-push": erp_push,
}


def worker_settings(
    settings: Settings, redis_settings: RedisSettings, *, with_relay: bool = True
) -> dict[str, Any]:
    """ARQ's settings; `with_relay` runs an event relay in the worker (not needed when the
    worker lives inside a server process, which has one)."""
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

    async def shutdown(ctx: dict[str, Any]) -> None:
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

    # With tracing on, each run is a span: a queued job's under the request that queued it,
    # a cron's a root of its own (app/telemetry/tracing.py); as they are when it is off.
    job, run = tracing.traced_job, tracing.traced_cron
    return {
        "functions": [
            job(heartbeat),
            job(due_soon),
            func(job(voucher_sync), timeout=3 * 3600),
            func(job(erp_push), timeout=25 * 60),
            func(
                job(erp_push_record), keep_result=0, timeout=600
            ),  # its job id frees up when it is done
        ],
        "cron_jobs": [
            cron(run(heartbeat), second=0, run_at_startup=True, unique=True),
            # unique: one run per tick across workers; the claim makes each reminder once.
            cron(
                run(due_soon), minute=EVERY_QUARTER_HOUR, second=0, run_at_startup=True, unique=True
            ),
            # ARQ would cancel a job after 5 minutes; a first voucher sync can take longer.
            cron(
                run(voucher_sync),
                hour=EVERY_FOURTH_HOUR,
                minute=5,
                second=0,
                unique=True,
                timeout=3 * 3600,
            ),
            cron(run(erp_push), minute={10, 40}, second=0, unique=True, timeout=25 * 60),
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": redis_settings,
        "queue_name": QUEUE,
        "health_check_key": "insight-crm:worker:health",
    }
