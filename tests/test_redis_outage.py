"""A Redis outage does not take the HTTP API down: a real Redis process, stopped and paused
(SIGSTOP), under apps of their own (a fresh database each: tests/test_relay.py `isolated`)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import sqlalchemy as sa
from prometheus_client import REGISTRY
from starlette.applications import Starlette

from app.data.engine import create_engine
from app.errors import ServiceUnavailable
from app.redis import create_redis
from app.runtime import revocation_view
from app.settings import Settings
from app.web.asgi import create_app
from tests.conftest import ISSUER, Servers, Tokens, error_codes
from tests.live import RedisProcess, graphql_socket, uvicorn_serving
from tests.pg_proxy import PostgresProxy
from tests.test_health import until
from tests.test_relay import isolated  # noqa: F401  (a stack whose Redis can be stopped)

ME = {"query": "{ me { roles } }"}
CREATE = {"query": 'mutation { createCompany(input: {name: "während"}) { id name } }'}
LOGOUT = {"query": "mutation { logout }"}


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            await until(lambda: _view_loaded(application))
            yield application, http


async def _view_loaded(application: Starlette) -> bool:
    return application.state.runtime.authenticator.revocations.age is not None


async def post(http: httpx.AsyncClient, body: dict[str, Any], token: str) -> httpx.Response:
    return await http.post("/graphql", json=body, headers={"authorization": f"Bearer {token}"})


def redis_errors(caller: str) -> float:
    return REGISTRY.get_sample_value("crm_redis_errors_total", {"caller": caller}) or 0.0


def _refused(response: httpx.Response) -> bool:
    return error_codes(response.json()) == ["UNAUTHENTICATED"]


async def test_with_redis_stopped_queries_and_mutations_answer_and_revocations_hold(
    isolated: tuple[Settings, RedisProcess],  # noqa: F811
    tokens: Tokens,
) -> None:
    own, redis = isolated
    user, revoked = tokens.make("outage", subject="u"), tokens.make("outage", subject="u")
    async with app_client(own) as (_app, http):
        assert (await post(http, LOGOUT, revoked)).json()["data"] == {"logout": True}
        redis.stop()

        query = await post(http, ME, user)
        assert (query.status_code, query.json()["data"]) == (200, {"me": {"roles": ["admin"]}})
        mutation = await post(http, CREATE, user)
        assert mutation.status_code == 200
        assert mutation.json()["data"]["createCompany"]["name"] == "während"
        assert _refused(await post(http, ME, revoked))  # revoked before the outage

        health = (await http.get("/health")).json()
        assert (health["status"], health["degraded"]) == ("degraded", ["redis"])
        assert health["unpublishedEvents"] == 1  # the company's event waits in the outbox
        assert health["oldestUnpublishedEventSeconds"] >= 0

        redis.start()

        async def published() -> bool:
            return (await http.get("/health")).json()["unpublishedEvents"] == 0

        await until(published, seconds=30)
        assert (await http.get("/health")).json()["oldestUnpublishedEventSeconds"] is None


async def test_a_token_revoked_during_the_outage_is_refused_by_every_process(
    isolated: tuple[Settings, RedisProcess],  # noqa: F811
    tokens: Tokens,
) -> None:
    """No notice can go out: the other process finds the row at its next refresh."""
    own, redis = isolated
    quick = own.model_copy(update={"revocation_refresh_seconds": 0.2})
    token = tokens.make("two-processes", subject="u")
    async with app_client(quick) as (_one, first), app_client(quick) as (_two, second):
        for http in (first, second):
            assert (await post(http, ME, token)).status_code == 200
        redis.stop()
        failed_notices = redis_errors("revocations")
        assert (await post(first, LOGOUT, token)).json()["data"] == {"logout": True}
        assert redis_errors("revocations") > failed_notices
        assert _refused(await post(first, ME, token))

        async def refused_by_the_other() -> bool:
            return _refused(await post(second, ME, token))

        await until(refused_by_the_other, seconds=10)


async def test_a_view_older_than_its_bound_refuses_and_within_it_answers(
    settings: Settings, servers: Servers
) -> None:
    """PostgreSQL away: the view is trusted for REVOCATION_MAX_STALENESS_SECONDS (no SQL per
    look), then it fails closed: it can no longer tell a revoked token from a good one."""
    own = settings.model_copy(
        update={"revocation_refresh_seconds": 0.2, "revocation_max_staleness_seconds": 3}
    )
    redis = create_redis(servers.redis_url, own)
    async with PostgresProxy(servers.database_url) as proxy:
        view = revocation_view(own, proxy.url, redis)
        view.start()
        try:
            await view.refresh()  # loaded once: a view never loaded is trusted for nothing
            await view.revoke(ISSUER, "gone", "stale-view", int(time.time()) + 600)
            await proxy.cut()
            assert await view.is_revoked(ISSUER, "gone")
            assert not await view.is_revoked(ISSUER, "good")

            async def refused() -> bool:
                try:
                    await view.is_revoked(ISSUER, "good")
                except ServiceUnavailable:
                    return True
                return False

            await until(refused, seconds=15)
            assert (view.age or 0) > 3
        finally:
            await view.close()
            await redis.aclose()


@contextmanager
def paused(redis: RedisProcess) -> Iterator[None]:
    assert redis.process is not None
    os.kill(redis.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(redis.process.pid, signal.SIGCONT)


async def test_with_redis_paused_no_request_waits_past_the_timeout(
    isolated: tuple[Settings, RedisProcess],  # noqa: F811
    tokens: Tokens,
) -> None:
    """A paused Redis accepts connections and never answers: with a 1 s socket timeout a
    request answers within seconds (it hung for 40 s and more with no timeout)."""
    own, redis = isolated
    user, leaving = tokens.make("paused", subject="u"), tokens.make("paused", subject="u")
    async with app_client(own) as (_app, http):
        assert (await post(http, ME, user)).status_code == 200
        with paused(redis):
            for body, token in ((ME, user), (CREATE, user), (LOGOUT, leaving)):
                began = time.monotonic()
                async with asyncio.timeout(20):  # fails the test rather than hang it
                    response = await post(http, body, token)
                assert time.monotonic() - began < 5, body
                assert response.status_code == 200 and "errors" not in response.json(), body
            health_began = time.monotonic()
            health = (await http.get("/health")).json()
            assert time.monotonic() - health_began < 5
            assert health["checks"]["redis"] == "down"
        assert _refused(await post(http, ME, leaving))


async def test_a_logout_closes_the_tokens_sockets_in_every_process_at_once(
    settings: Settings, tokens: Tokens
) -> None:
    """The notice over Redis, not the refresh (a minute here) nor the socket's recheck (five
    minutes here): the socket on the other process closes as the logout is written."""
    slow = settings.model_copy(
        update={"ws_auth_recheck_seconds": 300, "revocation_refresh_seconds": 60}
    )
    token = tokens.make("notice", subject="u")
    one, two = create_app(slow), create_app(slow)
    async with (
        one.router.lifespan_context(one),
        two.router.lifespan_context(two),
        uvicorn_serving(one) as host_one,
        uvicorn_serving(two) as host_two,
        graphql_socket(host_one) as here,
        graphql_socket(host_two) as there,
        httpx.AsyncClient(base_url=f"http://{host_one}") as http,
    ):
        for socket in (here, there):
            assert (await socket.init(token))["type"] == "connection_ack"
        for application in (one, two):  # a notice sent before is not heard
            await asyncio.wait_for(
                application.state.runtime.authenticator.revocations.listening.wait(), 10
            )
        assert (await post(http, LOGOUT, token)).json()["data"] == {"logout": True}
        assert await here.closed_with(wait=5) == 4401
        assert await there.closed_with(wait=5) == 4401


async def test_expired_revocations_leave_the_table_and_the_view(
    settings: Settings, servers: Servers
) -> None:
    """A row outlives its token by a minute at most: the refresh deletes it (by then the
    token's own expiry refuses it)."""
    redis = create_redis(servers.redis_url, settings)
    view = revocation_view(settings, servers.database_url, redis)
    jti = f"expired-{time.time_ns()}"
    try:
        await view.revoke(ISSUER, jti, "purge", int(time.time()) - 120)
        assert await _row_count(servers, jti) == 1
        await view.refresh()  # the first look of a process purges
        assert await _row_count(servers, jti) == 0
        assert not await view.is_revoked(ISSUER, jti)
    finally:
        await view.close()
        await redis.aclose()


async def _row_count(servers: Servers, jti: str) -> int:
    engine = create_engine(servers.database_url, pool_size=1)
    async with engine.connect() as connection:
        statement = sa.text("SELECT count(*) FROM revoked_token WHERE jti = :jti")
        count = int(await connection.scalar(statement, {"jti": jti}) or 0)
    await engine.dispose()
    return count


async def test_a_request_sends_redis_nothing(
    isolated: tuple[Settings, RedisProcess],  # noqa: F811
    tokens: Tokens,
) -> None:
    """Revocations are looked up in the process's view: no Redis round trip per request
    (there was one EXISTS each)."""
    own, _redis = isolated
    token = tokens.make("no-round-trip", subject="u")
    async with app_client(own) as (application, http):
        client = application.state.runtime.redis
        assert (await post(http, ME, token)).status_code == 200
        before = await _commands(client)
        for _ in range(20):
            assert (await post(http, ME, token)).status_code == 200
        assert await _commands(client) == before


async def _commands(client: Any) -> dict[str, int]:
    """Commands Redis has run, by name, leaving out the listeners' pings and our INFO."""
    stats = await client.info("commandstats")
    quiet = {"cmdstat_ping", "cmdstat_info"}
    return {name: int(value["calls"]) for name, value in stats.items() if name not in quiet}
