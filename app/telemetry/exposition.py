"""`/metrics` in Prometheus' text format, on a listener of its own (METRICS_HOST:METRICS_PORT).

Never on the API port: the API is public, the metrics are for the operator's scraper on a
private network, so the listener is off unless METRICS_PORT is set, binds loopback unless
told otherwise, and has neither auth nor rate limits. It runs in the process's event loop
(aiohttp, started and stopped by the server's lifespan or the worker's startup), so a scrape
can first refresh what is read from elsewhere with an awaitable `Refresher` (the outbox
backlog: one bounded query per scrape, never per request) before the registry is rendered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from app.settings import Settings

log = logging.getLogger(__name__)
Refresher = Callable[[], Awaitable[None]]
REFRESH_SECONDS = 2.0  # a refresher that takes longer leaves its gauges as they were
_REFRESHERS = web.AppKey("refreshers", tuple[Refresher, ...])


@dataclass(frozen=True)
class MetricsListener:
    runner: web.AppRunner
    host: str
    port: int  # the bound port (METRICS_PORT=0 picks a free one)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    async def close(self) -> None:
        await self.runner.cleanup()


async def start_listener(
    host: str, port: int, refreshers: Sequence[Refresher] = ()
) -> MetricsListener:
    app = web.Application()
    app[_REFRESHERS] = tuple(refreshers)
    app.router.add_get("/metrics", _scrape)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1]
    log.info("metrics at http://%s:%d/metrics", host, bound)
    return MetricsListener(runner, host, bound)


@asynccontextmanager
async def metrics_listener(
    settings: Settings, refreshers: Sequence[Refresher] = ()
) -> AsyncIterator[MetricsListener | None]:
    """The process's listener while the block runs, or None when METRICS_PORT is unset."""
    if settings.metrics_port is None:
        yield None
        return
    listener = await start_listener(settings.metrics_host, settings.metrics_port, refreshers)
    try:
        yield listener
    finally:
        await listener.close()


async def _scrape(request: web.Request) -> web.Response:
    await asyncio.gather(*(_refresh(r) for r in request.app[_REFRESHERS]))
    body = generate_latest(REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _refresh(refresher: Refresher) -> None:
    """Bounded, and never fatal: a scrape during a database outage still reports the rest."""
    try:
        async with asyncio.timeout(REFRESH_SECONDS):
            await refresher()
    except Exception as error:
        log.warning("metrics: a refresh failed (%s: %s)", type(error).__name__, error)
