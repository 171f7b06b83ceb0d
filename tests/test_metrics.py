"""Prometheus metrics: /metrics on a listener of its own (off unless METRICS_PORT is set, never
on the API port), scraped over real HTTP and parsed as Prometheus parses it; each kind of
non-request metric moves where its value lives. The registry is the process's, shared by
every app of the session, so the tests compare before and after."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from redis.exceptions import RedisError
from starlette.applications import Starlette

from app.data.engine import create_engine
from app.data.tenancy import system_session
from app.errors import LexwareUnavailable
from app.lexware.client import LexwareClient, RetryPolicy
from app.lexware.limiter import RateLimiter
from app.migrations import upgrade_to_head
from app.redis import arq_redis_settings, create_redis
from app.services.companies.service import create_company
from app.settings import Settings
from app.telemetry.exposition import MetricsListener, start_listener
from app.telemetry.pools import report_pool
from app.web.asgi import create_app
from jobs.worker import worker_settings
from models import Tenant
from tests.conftest import Servers, Tokens, server_dir
from tests.factories import new_scope
from tests.lexware_fixtures import ACME, Lexware
from tests.live import RedisProcess, free_port, graphql_socket, uvicorn_serving
from tests.test_cli import CLI, _clean_env, _run
from tests.test_lexware_contacts import SEARCH
from tests.test_subscriptions import CRM_EVENTS

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
ID_LIKE = {"id", "tenant", "tenant_id", "user", "user_id", "subject", "token", "jti", "email"}


async def scrape(url: str) -> Samples:
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def until(
    url: str, check: Callable[[Samples], bool], wait: float = 15
) -> Samples:  # bounded: the state we expect, or the last scrape in the failure
    deadline = time.monotonic() + wait
    while True:
        samples = await scrape(url)
        if check(samples):
            return samples
        assert time.monotonic() < deadline, "the metrics did not get there in time"
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
async def listener() -> AsyncIterator[MetricsListener]:
    """A listener of its own on a free loopback port, for what no app of ours serves here."""
    started = await start_listener("127.0.0.1", 0)
    yield started
    await started.close()


@pytest.fixture(scope="module")
async def metrics_app(settings: Settings) -> AsyncIterator[Starlette]:
    """An app whose lifespan serves /metrics on a free loopback port (METRICS_PORT=0)."""
    application = create_app(settings.model_copy(update={"metrics_port": 0}))
    async with application.router.lifespan_context(application):
        yield application


def metrics_url(application: Starlette) -> str:
    listener: MetricsListener = application.state.metrics
    return listener.url


# ---- the listener -----------------------------------------------------------------------


async def test_the_listener_is_off_unless_configured_and_never_on_the_api_port(
    app: Starlette, client: httpx.AsyncClient, metrics_app: Starlette
) -> None:
    assert app.state.runtime.settings.metrics_port is None and app.state.metrics is None
    assert (await client.get("/metrics")).status_code == 404
    transport = httpx.ASGITransport(app=metrics_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
        assert (await api.get("/metrics")).status_code == 404  # the API port, metrics on
    listener: MetricsListener = metrics_app.state.metrics
    assert listener.host == "127.0.0.1" and listener.port > 0
    samples = await scrape(listener.url)
    assert ("crm_events_unpublished", frozenset()) in samples


async def test_the_listener_closes_with_the_app(settings: Settings) -> None:
    application = create_app(settings.model_copy(update={"metrics_port": 0}))
    async with application.router.lifespan_context(application):
        url = metrics_url(application)
        await scrape(url)
    with pytest.raises(httpx.ConnectError):
        await scrape(url)


async def test_the_standalone_worker_serves_its_own(settings: Settings) -> None:
    redis = create_redis(str(settings.redis_url), settings)
    arq = arq_redis_settings(str(settings.redis_url), settings)
    try:
        for port, served in ((None, False), (0, True)):
            own = settings.model_copy(update={"metrics_port": port})
            options = worker_settings(own, arq, with_metrics=True)
            ctx: dict[str, Any] = {"redis": redis}
            await options["on_startup"](ctx)
            try:
                assert ("metrics" in ctx) is served
                if served:
                    samples = await scrape(ctx["metrics"].url)  # the worker's relay reports
                    assert ("crm_event_relay_lag_seconds", frozenset()) in samples
            finally:
                await options["on_shutdown"](ctx)
    finally:
        await redis.aclose()


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_metrics_port_in_use_is_refused_before_anything_starts(
    tmp_path: Path, busy_port: int, command: str
) -> None:
    data = tmp_path / "data"
    env = _clean_env(METRICS_PORT=str(busy_port))
    result = _run(command, "--data-dir", str(data), cwd=tmp_path, env=env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert f"cannot listen on 127.0.0.1:{busy_port}" in result.stderr
    assert not data.exists(), "the embedded servers must not start for a port we cannot use"


def test_the_metrics_port_is_never_the_apis(tmp_path: Path) -> None:
    port = str(free_port())
    env = _clean_env(METRICS_PORT=port)
    result = _run("serve", "--port", port, "--data-dir", str(tmp_path / "d"), cwd=tmp_path, env=env)
    assert result.returncode == 2 and "METRICS_PORT" in result.stderr, result.stderr


def test_the_worker_command_serves_its_own_until_it_stops(tmp_path: Path, servers: Servers) -> None:
    port = free_port()
    env = _clean_env(
        DATABASE_URL=servers.database_url, REDIS_URL=servers.redis_url, METRICS_PORT=str(port)
    )
    worker = subprocess.Popen(
        [CLI, "worker"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        deadline = time.monotonic() + 60
        while 'crm_cron_runs_total{job="heartbeat",outcome="ok"}' not in _get(url):
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            assert time.monotonic() < deadline, "the worker's metrics did not show its heartbeat"
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(30)
    assert _get(url) == "", "the listener stops with the worker"


def _get(url: str) -> str:
    try:
        return httpx.get(url, timeout=5).text
    except httpx.TransportError:
        return ""


# ---- the database pool ------------------------------------------------------------------


async def test_pool_connections_in_use_idle_and_waiting(
    metrics_app: Starlette, settings: Settings
) -> None:
    url = metrics_url(metrics_app)

    def pool(samples: Samples, state: str) -> float:
        return value(samples, "crm_db_pool_connections", state=state)

    before = await scrape(url)
    async with metrics_app.state.runtime.engine.connect() as held:
        await held.execute(sa.text("SELECT 1"))
        during = await scrape(url)
        assert pool(during, "in_use") == pool(before, "in_use") + 1
    after = await scrape(url)
    assert pool(after, "in_use") == pool(before, "in_use")
    assert pool(after, "idle") >= 1  # the connection went back to the pool

    # A pool of one (and one overflow), both held: a third checkout waits until one returns.
    small = create_engine(str(settings.database_url), pool_size=1)
    stop_reporting = report_pool(small)
    try:
        async with small.connect() as first, small.connect() as second:
            await first.execute(sa.text("SELECT 1"))
            await second.execute(sa.text("SELECT 1"))

            async def third() -> None:
                async with small.connect() as connection:
                    await connection.execute(sa.text("SELECT 1"))

            waiting = asyncio.create_task(third())
            await until(url, lambda s: pool(s, "waiting") == pool(before, "waiting") + 1)
        await waiting
        await until(url, lambda s: pool(s, "waiting") == pool(before, "waiting"))
    finally:
        stop_reporting()
        await small.dispose()


async def test_the_pool_logs_no_more_than_sqlalchemys_own(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Its life (created, disposed, recreated) is SQLAlchemy's INFO noise, not our log."""
    caplog.set_level(logging.INFO)
    engine = create_engine(str(settings.database_url), pool_size=1)
    async with engine.connect() as connection:
        await connection.execute(sa.text("SELECT 1"))
    await engine.dispose()
    assert [r.getMessage() for r in caplog.records if "Pool" in r.getMessage()] == []


# ---- live events ------------------------------------------------------------------------


async def test_subscriptions_live_rise_and_fall_with_a_websocket_subscription(
    metrics_app: Starlette, tokens: Tokens, tenant: str
) -> None:
    url = metrics_url(metrics_app)
    live = await scrape(url)
    baseline = value(live, "crm_subscriptions_live")
    async with uvicorn_serving(metrics_app) as host:
        async with graphql_socket(host) as socket:
            await socket.init(tokens.make(tenant))
            await socket.subscribe(CRM_EVENTS, {})
            await until(url, lambda s: value(s, "crm_subscriptions_live") == baseline + 1)
        await until(url, lambda s: value(s, "crm_subscriptions_live") == baseline)


@pytest.fixture
async def isolated(
    settings: Settings, scratch_database_url: str
) -> AsyncIterator[tuple[Settings, RedisProcess]]:
    """A stack of its own, metrics on: a fresh database (its outbox is this test's alone)
    and a Redis that can be stopped and started again."""
    await asyncio.to_thread(upgrade_to_head, scratch_database_url)
    redis = RedisProcess(server_dir("redis"))
    redis.start()
    own = {"database_url": scratch_database_url, "redis_url": redis.url, "metrics_port": 0}
    yield settings.model_copy(update=own), redis
    redis.stop()


async def test_events_backlog_lag_published_and_hub_reconnects_across_a_redis_restart(
    isolated: tuple[Settings, RedisProcess], tokens: Tokens
) -> None:
    own, redis = isolated
    application = create_app(own)
    runtime = application.state.runtime
    scope = await new_scope(runtime.sessions)
    async with system_session(runtime.sessions) as session:
        slug = (await session.execute(sa.select(Tenant.slug))).scalar_one()
    async with (
        application.router.lifespan_context(application),
        uvicorn_serving(application) as host,
        graphql_socket(host) as socket,
    ):
        url = metrics_url(application)
        await socket.init(tokens.make(slug, subject="u"))
        await socket.subscribe(CRM_EVENTS, {})
        await asyncio.wait_for(runtime.hub.connected.wait(), 10)
        first = await scrape(url)
        await create_company(scope, {"name": "out at once"})
        assert (await socket.next_data())["crmEvents"]["changes"]["name"][1] == "out at once"
        published = await until(
            url,
            lambda s: (
                value(s, "crm_events_published_total")
                >= value(first, "crm_events_published_total") + 1
                and value(s, "crm_events_unpublished") == 0  # read before the counter: racy
            ),
        )
        assert value(published, "crm_event_relay_lag_seconds") == 0

        redis.stop()
        for n in range(3):  # committed, and nowhere to go
            await create_company(scope, {"name": f"held {n}"})
        held = await until(url, lambda s: value(s, "crm_event_relay_lag_seconds") > 0)
        assert value(held, "crm_events_unpublished") == 3
        redis.start()

        drained = await until(url, lambda s: value(s, "crm_events_unpublished") == 0, wait=30)
        assert value(drained, "crm_event_relay_lag_seconds") == 0
        assert value(drained, "crm_events_published_total") >= (
            value(published, "crm_events_published_total") + 3
        )
        await until(
            url,
            lambda s: (
                value(s, "crm_event_hub_reconnects_total")
                == value(first, "crm_event_hub_reconnects_total") + 1
            ),
            wait=30,
        )


# ---- Lexware ----------------------------------------------------------------------------


async def test_lexware_calls_by_outcome_and_the_limiters_wait(
    lexware: Lexware, listener: MetricsListener
) -> None:
    def calls(samples: Samples, outcome: str) -> float:
        return value(samples, "crm_lexware_requests_total", outcome=outcome)

    lexware.seed(ACME)
    before = await scrape(listener.url)
    await lexware.api.data(SEARCH, {"name": "Acme"})
    lexware.fake.fail_next(503)  # retried: one server error, then the answer
    await lexware.api.data(SEARCH, {"name": "Acme"})
    lexware.fake.fail_next(400)  # not retried
    assert "errors" in await lexware.api(SEARCH, {"name": "Acme"})
    after = await scrape(listener.url)
    assert calls(after, "ok") == calls(before, "ok") + 2
    assert calls(after, "server_error") == calls(before, "server_error") + 1
    assert calls(after, "client_error") == calls(before, "client_error") + 1
    assert calls(after, "rate_limited") == calls(before, "rate_limited")
    waits = "crm_lexware_limiter_wait_seconds_count"
    assert value(after, waits) == value(before, waits) + 4  # one per request sent


async def test_lexware_calls_that_time_out_or_find_no_server(
    lexware: Lexware, listener: MetricsListener
) -> None:
    """The client's own: a Lexware slower than the client's timeout, and a port where nothing
    listens (one attempt each, so each is one call)."""
    runtime = lexware.app.state.runtime
    limiter = RateLimiter(runtime.redis, interval_ms=1)
    once = RetryPolicy(attempts=1)
    before = await scrape(listener.url)
    timeout = aiohttp.ClientTimeout(total=0.2)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        slow = LexwareClient(http, runtime.settings.lexware_base_url, lexware.key, limiter, once)
        lexware.fake.delay_next(2)
        with pytest.raises(LexwareUnavailable):
            await slow.get("/v1/profile")
        nowhere = LexwareClient(http, f"http://127.0.0.1:{free_port()}", "k", limiter, once)
        with pytest.raises(LexwareUnavailable):
            await nowhere.get("/v1/profile")
    after = await scrape(listener.url)
    for outcome in ("timeout", "network"):
        name = "crm_lexware_requests_total"
        assert value(after, name, outcome=outcome) == value(before, name, outcome=outcome) + 1


# ---- crons ------------------------------------------------------------------------------


@pytest.fixture
def stopped_redis() -> Iterator[str]:
    """The URL of a Redis that is not running (a free port, nothing listening)."""
    yield f"redis://127.0.0.1:{free_port()}/0"


async def test_cron_runs_are_counted_by_outcome_and_timed(
    app: Starlette, settings: Settings, listener: MetricsListener, stopped_redis: str
) -> None:
    options = worker_settings(settings, arq_redis_settings(str(settings.redis_url), settings))
    heartbeat: Callable[[dict[str, Any]], Awaitable[Any]] = next(
        job.coroutine for job in options["cron_jobs"] if job.name == "cron:heartbeat"
    )

    def runs(samples: Samples, outcome: str) -> float:
        return value(samples, "crm_cron_runs_total", job="heartbeat", outcome=outcome)

    timed = "crm_cron_duration_seconds_count"
    before = await scrape(listener.url)
    await heartbeat({"redis": app.state.runtime.redis})
    away = create_redis(stopped_redis, settings)
    try:
        with pytest.raises(RedisError):
            await heartbeat({"redis": away})
    finally:
        await away.aclose()
    after = await scrape(listener.url)
    assert runs(after, "ok") == runs(before, "ok") + 1
    assert runs(after, "error") == runs(before, "error") + 1
    assert value(after, timed, job="heartbeat") == value(before, timed, job="heartbeat") + 2


# ---- names and labels -------------------------------------------------------------------


async def test_no_metric_of_ours_is_labelled_by_an_id(listener: MetricsListener) -> None:
    """Cardinality stays bounded: no tenant, user or id as a label. A labelled metric shows
    its labels once a series exists: this test comes last in the module, after the others
    have made theirs appear (the pool's exist from the start)."""
    samples = await scrape(listener.url)
    ours = [(name, dict(labels)) for name, labels in samples if name.startswith("crm_")]
    assert "state" in {label for _name, labels in ours for label in labels}
    assert not [name for name, _labels in ours if name.endswith("_created")]
    for name, labels in ours:
        named = {label for label in labels if label != "le"}
        assert not named & ID_LIKE, (name, labels)
        assert not any(label.endswith("_id") for label in named), (name, labels)
