"""Rate limits per user and per tenant, in cost units (app/rate_limiter.py, app/web/rate_limit.py,
resolvers/operation_units.py): refusals and their headers, units by cost, WebSocket operations,
two server processes sharing Redis, and a Redis outage (fail-open, said so, then shared again).

The suite runs with the limits off (tests/conftest.py); each test here turns them on with small
budgets, in an app of its own."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from starlette.applications import Starlette

from app.migrations import upgrade_to_head
from app.rate_limiter import Window
from app.settings import Settings
from app.web.asgi import create_app
from tests.conftest import DROP, FRONTEND_ORIGIN, Tokens, record_full_runs, server_dir, serving
from tests.live import LEGACY_WS, TRANSPORT_WS, RedisProcess, graphql_socket, uvicorn_serving
from tests.test_subscriptions import CRM_EVENTS

ME = "{ me { user { email } } }"
CREATE = 'mutation { createCompany(input: {name: "Budget GmbH"}) { id } }'
TWO_CREATES = """mutation { a: createCompany(input: {name: "A"}) { id }
  b: createCompany(input: {name: "B"}) { id } }"""
LEXWARE = "mutation($id: ID!) { unlinkCompanyFromLexware(companyId: $id) { id } }"
BIG_PAGE = """query($first: Int!) { companies(first: $first) { edges { node { id
  contacts { edges { node { id emails { email } phones { phone } } } }
  deals { edges { node { id stage { name } } } } } } } }"""
_ITEM = re.compile(r'"(user|tenant)";r=(\d+);t=(\d+)')


def limited(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"rate_limit_enabled": True, **changes})


async def post(
    http: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    body = {"query": query, "variables": variables or {}}
    return await http.post("/graphql", json=body, headers={"authorization": f"Bearer {token}"})


def budget(response: httpx.Response) -> tuple[str, int, int]:
    """The RateLimit header's item: scope, remaining units, seconds to reset."""
    found = _ITEM.fullmatch(response.headers["ratelimit"])
    assert found, response.headers["ratelimit"]
    return found[1], int(found[2]), int(found[3])


def remaining(response: httpx.Response) -> int:
    assert response.status_code == 200, response.text
    return budget(response)[1]


async def lua_calls(redis: Redis) -> int:
    """The Lua scripts the Redis server has run (the limiter's hits and window reads)."""
    stats = await redis.info("commandstats")
    return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("evalsha", "eval"))


def refusals(scope: str, transport: str) -> float:
    labels = {"scope": scope, "transport": transport}
    return REGISTRY.get_sample_value("crm_rate_limit_refusals_total", labels) or 0.0


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


async def test_a_served_request_costs_the_limiter_one_round_trip(
    settings: Settings, tokens: Tokens, tenant: str
) -> None:
    """Both budgets charged and the user's window read back for the headers: one script call
    per request (three calls, half a millisecond of CPU, before)."""
    own = limited(settings, rate_limit_user=100, rate_limit_tenant=200)
    token = tokens.make(tenant, subject="counted")
    redis = Redis.from_url(str(settings.redis_url))
    async with serving(own) as http:
        await post(http, token, ME)  # the script is loaded once (EVAL), then run by its SHA
        before = await lua_calls(redis)
        served = [await post(http, token, ME) for _ in range(5)]
        assert [remaining(r) for r in served] == list(range(98, 93, -1))
        assert await lua_calls(redis) - before == 5
    await redis.aclose()


async def test_a_burst_from_one_user_is_refused_while_colleagues_and_other_tenants_are_served(
    settings: Settings, tokens: Tokens, tenant: str
) -> None:
    own = limited(settings, rate_limit_user=10, rate_limit_tenant=25)
    first, second, third = (tokens.make(tenant, subject=s) for s in ("first", "second", "third"))
    refused_before = refusals("user", "http"), refusals("tenant", "http")
    async with serving(own) as http:
        burst = [await post(http, first, ME) for _ in range(10)]
        assert [r.status_code for r in burst] == [200] * 10
        assert [remaining(r) for r in burst] == list(range(9, -1, -1))

        refused = await post(http, first, CREATE)  # a write over budget: nothing runs
        assert refused.status_code == 429
        assert codes(refused) == ["RATE_LIMITED"]
        extensions = refused.json()["errors"][0]["extensions"]
        retry_after = int(refused.headers["retry-after"])
        assert extensions["retryAfter"] == retry_after and extensions["scope"] == "user"
        assert extensions["requestId"] == refused.headers["x-request-id"]
        # 10 of 10 units spent in this minute, and a write costs 10: the window has to end
        # (in a minute) and 9 of its 10 units fade (another 54 s)
        assert 80 < retry_after <= 114
        assert refused.headers["ratelimit-policy"] == '"user";q=10;w=60, "tenant";q=25;w=60'
        assert budget(refused)[:2] == ("user", 0)

        # While not one unit fits, the server refuses the rest of the burst without Redis.
        redis = Redis.from_url(str(settings.redis_url))
        scripts_run = await lua_calls(redis)
        again = [await post(http, first, ME) for _ in range(5)]
        assert [r.status_code for r in again] == [429] * 5
        assert all(30 < int(r.headers["retry-after"]) <= 114 for r in again)
        assert await lua_calls(redis) == scripts_run
        await redis.aclose()

        # A colleague is served (the refused requests spent nothing of the tenant's budget),
        # and the refused createCompany created nothing.
        listed = await post(http, second, "{ companies(first: 5) { totalCount } }")
        assert listed.json()["data"]["companies"]["totalCount"] == 0
        assert remaining(listed) == 9
        colleague = [await post(http, second, ME) for _ in range(9)]
        assert [r.status_code for r in colleague] == [200] * 9

        # The tenant has spent 20 of 25: a third user gets 5, then the tenant's budget refuses.
        third_user = [await post(http, third, ME) for _ in range(6)]
        assert [r.status_code for r in third_user] == [200] * 5 + [429]
        assert third_user[-1].json()["errors"][0]["extensions"]["scope"] == "tenant"
        assert budget(third_user[-1])[:2] == ("tenant", 0)

        other_tenant = await post(http, tokens.make(f"{tenant}-b", subject="first"), ME)
        assert other_tenant.status_code == 200 and remaining(other_tenant) == 9

        # A browser app on an allowed origin may read the headers.
        exposed = await http.post(
            "/graphql",
            json={"query": ME},
            headers={"authorization": f"Bearer {first}", "origin": FRONTEND_ORIGIN},
        )
        assert exposed.status_code == 429
        assert {"retry-after", "ratelimit", "ratelimit-policy"} <= {
            h.strip().lower() for h in exposed.headers["access-control-expose-headers"].split(",")
        }
    after = (
        refusals("user", "http") - refused_before[0],
        refusals("tenant", "http") - refused_before[1],
    )
    assert after == (1 + 5 + 1, 1)  # first: the write, the rest of the burst, the CORS request


async def test_units_follow_the_cost_on_both_execution_paths(
    settings: Settings, tokens: Tokens, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = limited(
        settings, rate_limit_user=100_000, rate_limit_tenant=100_000, compiled_execution="on"
    )
    token = tokens.make(tenant, subject="counted")
    async with serving(own) as http:

        async def spent(query: str, variables: dict[str, Any] | None = None) -> int:
            before = remaining(await post(http, token, ME))
            answer = await post(http, token, query, variables)
            assert answer.status_code == 200, answer.text
            return before - remaining(answer)

        assert await spent(ME) == 1
        page = await post(http, token, BIG_PAGE, {"first": 200})
        cost = page.json()["extensions"]["cost"]
        assert cost > 100_000
        full_runs = record_full_runs(monkeypatch)
        # The same page again is answered by the compiled fast path: charged the same.
        assert await spent(BIG_PAGE, {"first": 200}) == 1 + cost // 10_000
        assert BIG_PAGE not in full_runs
        small = await spent(BIG_PAGE, {"first": 1})
        assert small < 1 + cost // 10_000 and small >= 1
        assert await spent(CREATE) == 10
        assert await spent(TWO_CREATES) == 20
        assert await spent(LEXWARE, {"id": str(uuid.uuid4())}) == 50  # charged though NOT_FOUND


async def test_health_livez_and_graphiql_are_never_limited(
    settings: Settings, tokens: Tokens, tenant: str
) -> None:
    token = tokens.make(tenant, subject="spent")
    async with serving(limited(settings, rate_limit_user=2, rate_limit_tenant=2)) as http:
        assert [(await post(http, token, ME)).status_code for _ in range(3)] == [200, 200, 429]
        headers = {"authorization": f"Bearer {token}", "accept": "text/html"}
        for _ in range(5):
            health = await http.get("/health", headers=headers)
            assert health.status_code == 200
            assert health.json()["rateLimiter"] == {"state": "ok"}
            assert (await http.get("/livez", headers=headers)).status_code == 200
            assert (await http.get("/graphql", headers=headers)).status_code == 200


@pytest.fixture
async def limited_live(settings: Settings) -> AsyncIterator[tuple[Starlette, str]]:
    application = create_app(limited(settings, rate_limit_user=4, rate_limit_tenant=100))
    async with (
        application.router.lifespan_context(application),
        uvicorn_serving(application) as host,
    ):
        yield application, host


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_websocket_operations_are_charged_and_refused_with_a_coded_frame(
    limited_live: tuple[Starlette, str], tokens: Tokens, tenant: str, protocol: str
) -> None:
    _, host = limited_live
    token = tokens.make(tenant, subject="socket")
    refused_before = refusals("user", "ws")
    async with graphql_socket(host, protocol) as socket:
        assert (await socket.init(token))["type"] == "connection_ack"
        await socket.subscribe(CRM_EVENTS, {})  # 1 unit: a subscription's start counts
        for _ in range(3):  # 3 more
            await socket.subscribe(ME)
            assert (await socket.next_data())["me"]["user"]["email"] == "socket@example.de"
            assert (await socket.receive())["type"] == "complete"
        for _ in range(2):  # the socket answers each refusal and stays open
            refused_id = await socket.subscribe(ME)
            frame = await socket.receive()
            assert frame["type"] == "error" and frame["id"] == refused_id
            payload = frame["payload"]
            error = payload[0] if isinstance(payload, list) else payload
            assert error["extensions"]["code"] == "RATE_LIMITED"
            assert error["extensions"]["retryAfter"] >= 1
        assert socket.ws.close_code is None
    assert refusals("user", "ws") - refused_before == 2
    # The budget is the user's, whatever the transport.
    async with httpx.AsyncClient(base_url=f"http://{host}") as http:
        assert (await post(http, token, ME)).status_code == 429


async def test_the_budget_holds_across_two_server_processes(
    settings: Settings, tokens: Tokens, tenant: str
) -> None:
    own = limited(settings, rate_limit_user=6, rate_limit_tenant=100)
    one, two = create_app(own), create_app(own)
    token = tokens.make(tenant, subject="roaming")
    async with (
        one.router.lifespan_context(one),
        two.router.lifespan_context(two),
        uvicorn_serving(one) as host_one,
        uvicorn_serving(two) as host_two,
        httpx.AsyncClient(base_url=f"http://{host_one}") as first,
        httpx.AsyncClient(base_url=f"http://{host_two}") as second,
    ):
        assert [remaining(await post(first, token, ME)) for _ in range(4)] == [5, 4, 3, 2]
        assert [remaining(await post(second, token, ME)) for _ in range(2)] == [1, 0]
        assert (await post(first, token, ME)).status_code == 429
        assert (await post(second, token, ME)).status_code == 429


def degraded_gauge() -> float | None:
    return REGISTRY.get_sample_value("crm_rate_limiter_degraded")


def limiter_warnings(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(
        r.name == "app.rate_limiter" and r.levelno == logging.WARNING and text in r.getMessage()
        for r in caplog.records
    )


@pytest.fixture
async def own_redis(
    settings: Settings, scratch_database_url: str
) -> AsyncIterator[tuple[Settings, RedisProcess]]:
    """A stack whose Redis can be stopped, paused and restarted; tokens without a jti, so that
    signing in needs no Redis (the blocklist's own outage is not what is tested here)."""
    await asyncio.to_thread(upgrade_to_head, scratch_database_url)
    redis = RedisProcess(server_dir("rate-redis"))
    redis.start()
    own = limited(
        settings,
        database_url=scratch_database_url,
        redis_url=redis.url,
        jwt_require_jti=False,
        rate_limit_user=5,
        rate_limit_tenant=100,
        rate_limit_redis_retry_seconds=0.5,
    )
    yield own, redis
    if redis.process is not None:
        os.kill(redis.process.pid, signal.SIGCONT)
    redis.stop()


async def test_with_redis_down_the_limiter_fails_open_to_memory_and_says_so(
    own_redis: tuple[Settings, RedisProcess], tokens: Tokens, caplog: pytest.LogCaptureFixture
) -> None:
    own, redis = own_redis
    tenant = f"t-{uuid.uuid4().hex[:12]}"

    def token(user: str) -> str:
        return tokens.make(tenant, subject=user, jti=DROP)

    caplog.set_level(logging.WARNING, logger="app.rate_limiter")
    async with serving(own) as http:
        assert remaining(await post(http, token("before"), ME)) == 4
        assert degraded_gauge() == 0

        redis.stop()
        during = [await post(http, token("during"), ME) for _ in range(6)]
        # Served without Redis, and this process still holds the user to the budget.
        assert [r.status_code for r in during] == [200] * 5 + [429]
        assert degraded_gauge() == 1
        health = (await http.get("/health")).json()["rateLimiter"]
        assert health["state"] == "degraded" and "since" in health
        await asyncio.sleep(0.6)  # past the breaker's interval: one request tries Redis again
        assert (await post(http, token("later"), ME)).status_code == 200
        assert limiter_warnings(caplog, "Redis unreachable") == 1

        redis.start()
        async with asyncio.timeout(15):
            while (await http.get("/health")).json()["rateLimiter"]["state"] != "ok":
                await post(http, token("probe"), ME)
                await asyncio.sleep(0.2)
        assert degraded_gauge() == 0
        assert limiter_warnings(caplog, "Redis reachable again") == 1

        client = Redis.from_url(redis.url)
        keys_before = set(await client.keys("crm:rate:*user/*"))
        after = [await post(http, token("after"), ME) for _ in range(6)]
        assert [r.status_code for r in after] == [200] * 5 + [429]
        assert set(await client.keys("crm:rate:*user/*")) - keys_before  # counted in Redis
        await client.aclose()


async def test_a_paused_redis_delays_one_request_by_its_timeout_and_the_rest_not_at_all(
    own_redis: tuple[Settings, RedisProcess], tokens: Tokens
) -> None:
    own, redis = own_redis
    own = own.model_copy(update={"rate_limit_redis_retry_seconds": 60})
    token = tokens.make(f"t-{uuid.uuid4().hex[:12]}", subject="paused", jti=DROP)
    observer = Redis.from_url(redis.url)
    async with serving(own) as http:
        assert (await post(http, token, ME)).status_code == 200
        connections = (await observer.info("stats"))["total_connections_received"]
        assert redis.process is not None
        os.kill(redis.process.pid, signal.SIGSTOP)
        try:
            for _ in range(4):  # the first waits for the 1 s timeout, the rest skip Redis
                async with asyncio.timeout(5):
                    assert (await post(http, token, ME)).status_code == 200
            assert degraded_gauge() == 1
        finally:
            os.kill(redis.process.pid, signal.SIGCONT)
        # A paused Redis still completes connections (its listen backlog): each request that
        # tried it again would have connected anew (the timed-out connection is dropped).
        await observer.ping()
        assert (await observer.info("stats"))["total_connections_received"] == connections
    await observer.aclose()


def test_the_wait_until_a_request_fits_the_sliding_window() -> None:
    # The storage admits `units` once floor(previous x its weight) + current + units <= limit.
    fresh = Window(previous=0, previous_ttl=0, current=10, current_ttl=110)
    # the current window ends in 50 s, then its 10 units fade: at once 9.99, floored to 9
    assert fresh.seconds_until_fits(1, limit=10, window=60) == pytest.approx(50)
    assert fresh.seconds_until_fits(10, limit=10, window=60) == pytest.approx(50 + 54)
    assert fresh.seconds_until_fits(0, limit=10, window=60) == 0
    # 30 units of the previous window weigh 10 now and fade over the 20 s they still count
    fading = Window(previous=30, previous_ttl=20, current=0, current_ttl=80)
    assert fading.spent(60) == 10
    assert fading.seconds_until_fits(5, limit=10, window=60) == pytest.approx(8)
    assert fading.seconds_until_fits(0, limit=10, window=60) == 0
