"""Every job and cron run counted and timed (crm_cron_runs_total, crm_cron_duration_seconds):
one wrapper, applied where the worker's functions are listed (jobs/worker.py)."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from app.telemetry.metrics import CRON_DURATION, CRON_RUNS

Job = TypeVar("Job", bound=Callable[..., Awaitable[Any]])


def observed(job: Job) -> Job:
    """`job`, counting each run by outcome (ok, error, or cancelled: ARQ's timeout or the
    worker's shutdown) under the function's name, a label from a fixed set. ARQ names a job
    by `__qualname__`, which `functools.wraps` keeps, so enqueued names still resolve."""
    name = job.__name__

    @functools.wraps(job)
    async def run(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await job(*args, **kwargs)
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        else:
            outcome = "ok"
            return result
        finally:
            CRON_RUNS.labels(name, outcome).inc()
            CRON_DURATION.labels(name).observe(time.perf_counter() - started)

    return cast(Job, run)
