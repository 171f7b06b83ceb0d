"""Request ids for work no request caused: each cron run gets one of its own
(`cron-<job>-<hex>`), so its log lines and the events it writes can be told apart."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

from arq.typing import WorkerCoroutine

from app.telemetry.record import request_id_set


def job_request_id(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:16]}"


def cron_run(job: Callable[..., Awaitable[Any]]) -> WorkerCoroutine:
    """`job` run under a request id of its own (ARQ names the cron after the job: wraps
    keeps the name)."""

    @functools.wraps(job)
    async def run(ctx: dict[Any, Any], *args: Any, **kwargs: Any) -> Any:
        with request_id_set(job_request_id(f"cron-{job.__name__}")):
            return await job(ctx, *args, **kwargs)

    return cast(WorkerCoroutine, run)
