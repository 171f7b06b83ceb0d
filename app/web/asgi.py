"""The ASGI application: routes, middleware and the lifespan that owns the runtime."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Route, WebSocketRoute

from app.health import health, livez
from app.runtime import Runtime
from app.settings import Settings
from app.supervision import Backoff
from app.telemetry import tracing
from app.telemetry.exposition import metrics_listener
from app.web.graphiql import graphiql_routes
from app.web.graphql_http import CrmGraphQL
from app.web.rate_limit import RATE_LIMIT_HEADERS

log = logging.getLogger(__name__)
# CPython collects its youngest generation every 700 new container objects: in the middle of
# every burst (a page's rows, one event's fan-out to a thousand sockets). What is alive at that
# moment is promoted, dies a little later, and piles up in the oldest generation until a full
# collection walks every open socket's objects: 100 ms and more at 1,000 subscriptions, a stall
# of the whole process (bench S6). Collected rarely, the young die by reference counting first.
GC_THRESHOLDS = (50_000, 20, 10)


def _settle_heap() -> None:
    """What startup made (modules, schema, plans) lives as long as the process: out of the
    collector's way, so full collections under many sockets stay short and rare."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


@asynccontextmanager
async def embedded_worker(settings: Settings) -> AsyncIterator[None]:
    """The ARQ worker inside the server process (signals stay uvicorn's)."""
    task = asyncio.create_task(_supervised_worker(settings), name="arq-worker")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _supervised_worker(settings: Settings) -> None:
    """ARQ's worker ends on a Redis error; in a server process nobody would notice, so it is
    started again (with backoff) until the server stops."""
    from arq.worker import Worker

    from app.redis import arq_redis_settings
    from jobs.worker import worker_settings

    options = worker_settings(
        settings, arq_redis_settings(str(settings.redis_url), settings), with_relay=False
    )
    # A Redis outage is one warning (app/supervision.py), not a traceback every 30 s.
    backoff = Backoff(log, "cron worker", first=0.5, cap=30.0)
    clock = asyncio.get_running_loop().time
    while True:
        worker = Worker(**options, handle_signals=False)
        started = clock()
        try:
            await worker.main()
        except Exception as error:
            backoff.note_run(clock() - started, error)
        finally:
            with contextlib.suppress(Exception):
                await worker.close()
        await backoff.wait()


def create_app(settings: Settings, *, with_worker: bool = False) -> Starlette:
    """Build the app; database and Redis are reached lazily, so a down backend shows in /health.
    `with_worker` also runs the ARQ worker (the crons) in this process."""
    tracing.start(settings)  # before the runtime: its clients are traced (if on)
    runtime = Runtime.open(settings)
    graphql = CrmGraphQL(runtime)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.runtime = runtime
        runtime.start()
        _settle_heap()
        try:
            # /metrics on its own listener (off unless METRICS_PORT is set), never this app's.
            async with metrics_listener(settings, [runtime.relay.report_backlog]) as metrics:
                app.state.metrics = metrics
                if with_worker:
                    async with embedded_worker(settings):
                        yield
                else:
                    yield
        finally:
            await runtime.close()
            # Sends the spans still pending (a no-op when off); an unreachable collector is
            # given up after OTEL_EXPORTER_OTLP_TIMEOUT (10 s), off the event loop.
            await asyncio.to_thread(tracing.stop)

    # The request span (when tracing is on) outside everything else.
    middleware = tracing.asgi_middleware()
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID", "Idempotency-Key"],
                # A page's script may read its request id, when to retry, and whether an
                # answer was a replay.
                expose_headers=[*RATE_LIMIT_HEADERS, "Idempotent-Replayed", "X-Request-ID"],
                max_age=600,
            )
        )
    # gzip, innermost: HTTP only (WebSockets pass through), a streamed body is flushed chunk
    # by chunk and text/event-stream left alone. Level 5, not starlette's 9: a page of 200
    # companies (39 KB of JSON) became 8.8 KB in 0.34 ms at 5, 8.4 KB in 1.6 ms at 9.
    if settings.gzip_min_bytes:
        middleware.append(
            Middleware(GZipMiddleware, minimum_size=settings.gzip_min_bytes, compresslevel=5)
        )
    routes = [
        # Route + WebSocketRoute, not Mount: a Mount would redirect /graphql to /graphql/.
        Route("/graphql", graphql),
        WebSocketRoute("/graphql", graphql),
        Route("/health", health, methods=["GET"]),
        Route("/readyz", health, methods=["GET"]),  # the usual name for a readiness probe
        Route("/livez", livez, methods=["GET"]),
        *graphiql_routes(settings),  # GraphiQL's assets, when it is enabled
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.runtime = runtime
    return app


def websocket_message_limit(settings: Settings) -> int:
    """The largest WebSocket message uvicorn reads (its default: 16 MiB), for `serve` and the
    tests alike: twice an HTTP body's limit, room for the envelope and variables, so an
    oversize document still gets its coded refusal (app/web/ws_admission.py); a larger frame
    closes the socket (1009) before it is held in memory."""
    return 2 * settings.max_body_bytes
