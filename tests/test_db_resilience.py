"""Database time limits and outages: a statement cut by its timeout answers TIMEOUT and is not
sent again, an unreachable database answers SERVICE_UNAVAILABLE; both as HTTP 503 with
Retry-After, on every execution path. Real locks from another connection, a real proxy that
goes away."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import event
from starlette.applications import Starlette

from app.data.engine import COMMAND_TIMEOUT_MARGIN, DatabaseLimits
from app.internals import driver_socket
from app.redis import create_redis
from app.settings import Settings
from app.web.asgi import create_app
from jobs.run import run_once
from jobs.worker import due_soon, worker_settings
from resolvers.compiled.extension import COMPILED_RUN
from tests.conftest import Api, Servers, Tokens, _asyncpg_dsn, error_codes
from tests.live import uvicorn_serving
from tests.pg_proxy import PostgresProxy

COMPANIES = "{ companies(first: 5) { edges { node { id name } } } }"
OTHER_QUERY = "{ companies(first: 3) { edges { node { id status } } } }"
CREATE = 'mutation { createCompany(input: {name: "Vorher GmbH"}) { id name version } }'
RENAME = 'mutation($id: ID!) { updateCompany(id: $id, input: {name: "Nachher GmbH"}) { name } }'
ME = "{ me { roles } }"
# How each path is reached: the mode, and whether the document was answered once before
# (then the HTTP view answers it from its admitted plan, without strawberry's view).
PATHS = {
    "executor": ("off", False),
    "compiled": ("on", False),
    "admitted": ("on", True),
    "verify": ("verify", False),
}
STATEMENT_LIMIT = {"db_statement_timeout_seconds": 0.3, "db_lock_timeout_seconds": 0}
LOCK_LIMIT = {"db_statement_timeout_seconds": 30, "db_lock_timeout_seconds": 0.2}
LIMITS = {"statement": STATEMENT_LIMIT, "lock": LOCK_LIMIT}
BOUND = 20  # seconds: a request that waits longer than this was never cut


@asynccontextmanager
async def app_serving(settings: Settings) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield application, http


async def post(
    http: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    async with asyncio.timeout(BOUND):
        return await http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"authorization": f"Bearer {token}"},
        )


@asynccontextmanager
async def holding(database_url: str, statement: str, *args: Any) -> AsyncIterator[None]:
    """Another real connection runs `statement` in a transaction left open (its locks held)."""
    connection = await asyncpg.connect(_asyncpg_dsn(database_url))
    transaction = connection.transaction()
    await transaction.start()
    try:
        await connection.execute(statement, *args)
        yield
    finally:
        await transaction.rollback()
        await connection.close()


@contextmanager
def statements_on(app: Starlette, table: str) -> Iterator[list[tuple[bool, str]]]:
    """(sent by the compiled path?, SQL) of each statement the app sends that names `table`."""
    seen: list[tuple[bool, str]] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if f" {table}" in statement and "set_config" not in statement:
            seen.append((COMPILED_RUN.get(), statement))

    engine = app.state.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(BOUND):
        while True:
            if condition():
                return
            await asyncio.sleep(0.02)


def assert_unavailable(response: httpx.Response, code: str) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert error_codes(body) == [code]
    # no data at all: a query's `data` is null, a mutation's root fields (nullable) are
    assert body["data"] is None or set(body["data"].values()) == {None}
    assert "Traceback" not in response.text
    # Every path names the request, the admitted plan's own 503 too (app/web/served.py).
    request_id = response.headers["x-request-id"]
    assert [e["extensions"]["requestId"] for e in body["errors"]] == [request_id]


@pytest.mark.parametrize("limit", sorted(LIMITS))
@pytest.mark.parametrize("path", sorted(PATHS))
async def test_a_query_on_a_locked_table_times_out_and_is_not_sent_again(
    settings: Settings, servers: Servers, tokens: Tokens, tenant: str, path: str, limit: str
) -> None:
    mode, admitted = PATHS[path]
    token = tokens.make(tenant)
    limited = settings.model_copy(update={"compiled_execution": mode, **LIMITS[limit]})
    async with app_serving(limited) as (app, http):
        before = await post(http, token, COMPANIES)  # provisions the caller, admits the document
        assert before.status_code == 200 and "errors" not in before.json()
        query = COMPANIES if admitted else OTHER_QUERY
        with statements_on(app, "company") as sent:
            async with holding(servers.database_url, "LOCK TABLE company IN ACCESS EXCLUSIVE MODE"):
                response = await post(http, token, query)
        after = await post(http, token, query)
    assert_unavailable(response, "TIMEOUT")
    # Sent once, by the path under test; the executor did not wait on the lock a second time.
    assert [compiled for compiled, _ in sent] == [mode != "off"]
    assert after.status_code == 200 and "errors" not in after.json()


async def test_a_client_that_gives_up_leaves_no_connection_waiting(
    settings: Settings, servers: Servers, tokens: Tokens, tenant: str
) -> None:
    """The server does not stop a request whose client went away; the statement timeout
    bounds it, and its connection goes back to the pool while the lock is still held."""
    token = tokens.make(tenant)
    limited = settings.model_copy(update={"compiled_execution": "on", **STATEMENT_LIMIT})
    async with app_serving(limited) as (app, _), uvicorn_serving(app) as host:
        async with httpx.AsyncClient(base_url=f"http://{host}", timeout=BOUND) as http:
            assert (await post(http, token, COMPANIES)).status_code == 200
        pool = app.state.runtime.engine.pool
        with statements_on(app, "company") as sent:
            async with holding(servers.database_url, "LOCK TABLE company IN ACCESS EXCLUSIVE MODE"):
                async with httpx.AsyncClient(base_url=f"http://{host}", timeout=0.05) as http:
                    with pytest.raises(httpx.ReadTimeout):
                        await post(http, token, OTHER_QUERY)
                await until(lambda: bool(sent) and pool.checkedout() == 0)
    assert len(sent) == 1


@pytest.mark.parametrize("limit", sorted(LIMITS))
async def test_a_mutation_blocked_by_a_row_lock_times_out_and_changes_nothing(
    settings: Settings, servers: Servers, api: Api, limit: str
) -> None:
    company = (await api.data(CREATE))["createCompany"]
    token = api.token()
    async with app_serving(settings.model_copy(update=LIMITS[limit])) as (app, http):
        assert (await post(http, token, ME)).status_code == 200  # provisioned before the lock
        lock = "SELECT 1 FROM company WHERE id = $1::uuid FOR UPDATE"
        with statements_on(app, "company") as sent:
            async with holding(servers.database_url, lock, company["id"]):
                response = await post(http, token, RENAME, {"id": company["id"]})
    assert_unavailable(response, "TIMEOUT")
    assert len([s for _, s in sent if s.lstrip().upper().startswith("UPDATE")]) == 1
    stored = await api.data(
        "query($id: ID!) { company(id: $id) { name version } events(entityId: $id) { totalCount } }",
        {"id": company["id"]},
    )
    assert stored["company"] == {"name": "Vorher GmbH", "version": company["version"]}
    assert stored["events"]["totalCount"] == 1  # created; no update was recorded


TWO_WRITES = """mutation($id: ID!) { first: createCompany(input: {name: "Zuerst GmbH"}) { id }
  then: updateCompany(id: $id, input: {name: "Nachher GmbH"}) { name } }"""


async def test_a_mutation_that_committed_before_its_failure_is_no_503(
    settings: Settings, servers: Servers, api: Api
) -> None:
    """Its first root field committed, its second timed out. A 503 invited a retry, which
    would create the first company again: it is a 200 with the error, and the first one's
    answer (root mutation fields are nullable: the failure nulls only its own field)."""
    company = (await api.data(CREATE))["createCompany"]
    token = api.token()
    async with app_serving(settings.model_copy(update=LOCK_LIMIT)) as (_app, http):
        assert (await post(http, token, ME)).status_code == 200  # provisioned before the lock
        lock = "SELECT 1 FROM company WHERE id = $1::uuid FOR UPDATE"
        async with holding(servers.database_url, lock, company["id"]):
            response = await post(http, token, TWO_WRITES, {"id": company["id"]})
    assert response.status_code == 200, response.text
    assert "retry-after" not in response.headers
    body = response.json()
    assert error_codes(body) == ["TIMEOUT"]
    assert body["errors"][0]["path"] == ["then"]
    assert body["data"]["then"] is None and body["data"]["first"]["id"]
    names = await api.data("{ companies { edges { node { name } } } }")
    assert sorted(e["node"]["name"] for e in names["companies"]["edges"]) == [
        "Vorher GmbH",
        "Zuerst GmbH",
    ]


@pytest.mark.parametrize("mode", ["on", "off"])
async def test_an_unreachable_database_answers_service_unavailable(
    settings: Settings, servers: Servers, tokens: Tokens, tenant: str, mode: str
) -> None:
    token = tokens.make(tenant)
    async with PostgresProxy(servers.database_url) as proxy:
        proxied = settings.model_copy(
            update={"database_url": proxy.url, "compiled_execution": mode}
        )
        async with app_serving(proxied) as (_app, http):
            for _ in range(2):  # provisions the caller, and admits the document (mode on)
                before = await post(http, token, COMPANIES)
                assert before.status_code == 200 and "errors" not in before.json()
            await proxy.cut()
            answers = [
                await post(http, token, COMPANIES),
                await post(http, token, OTHER_QUERY),
                await post(http, token, CREATE),
                await post(http, token, COMPANIES),  # on a connection newly refused
            ]
    for response in answers:
        assert_unavailable(response, "SERVICE_UNAVAILABLE")


async def within_bound(request: Awaitable[httpx.Response]) -> httpx.Response:
    """The response, or a failure when none comes within BOUND. (Cancelling a request that
    waits on a hung server is not enough: the driver's own clean-up swallowed it.)"""
    task = asyncio.ensure_future(request)
    done, _ = await asyncio.wait({task}, timeout=BOUND)
    if not done:
        task.cancel()
        raise AssertionError(f"no answer within {BOUND} s")
    return task.result()


@pytest.mark.parametrize("mode", ["on", "off"])
async def test_a_database_that_stops_answering_is_unavailable_and_the_pool_recovers(
    settings: Settings, servers: Servers, tokens: Tokens, tenant: str, mode: str
) -> None:
    """A hung server (SIGSTOPped, or behind a network that drops everything) enforces no
    statement timeout and closes nothing: the client's command timeout bounds the wait."""
    token = tokens.make(tenant)
    headers = {"authorization": f"Bearer {token}"}
    async with PostgresProxy(servers.database_url) as proxy:
        proxied = settings.model_copy(
            update={"database_url": proxy.url, "compiled_execution": mode, **STATEMENT_LIMIT}
        )
        async with app_serving(proxied) as (app, http):
            for _ in range(2):  # provisions the caller, and admits the document (mode on)
                before = await post(http, token, COMPANIES)
                assert before.status_code == 200 and "errors" not in before.json()
            proxy.freeze()  # the pooled connection's next query gets no answer
            answers = [
                await within_bound(http.post("/graphql", json={"query": q}, headers=headers))
                for q in (COMPANIES, CREATE)
            ]
            proxy.thaw()
            after = await post(http, token, COMPANIES)
            pool = app.state.runtime.engine.pool
            await until(lambda: pool.checkedout() == 0)
    for response in answers:
        assert_unavailable(response, "SERVICE_UNAVAILABLE")
    assert after.status_code == 200 and "errors" not in after.json()


async def test_connections_over_tcp_keep_alive_and_bound_each_command(
    settings: Settings, servers: Servers
) -> None:
    async with PostgresProxy(servers.database_url) as proxy:  # a TCP connection
        over_tcp = settings.model_copy(update={"database_url": proxy.url})
        async with app_serving(over_tcp) as (app, _http), app.state.runtime.engine.connect() as db:
            driver = (await db.get_raw_connection()).driver_connection
            sock = driver_socket(driver)
            keepalive = sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
            command_timeout = driver._config.command_timeout
    assert keepalive == 1
    assert command_timeout == settings.db_statement_timeout_seconds + COMMAND_TIMEOUT_MARGIN
    jobs = DatabaseLimits.for_jobs(settings)
    assert (
        jobs.command_timeout == settings.db_job_statement_timeout_seconds + COMMAND_TIMEOUT_MARGIN
    )
    unlimited = settings.model_copy(update={"db_job_statement_timeout_seconds": 0})
    assert DatabaseLimits.for_jobs(unlimited).command_timeout is None  # 0 stays no limit


async def test_provisioning_blocked_by_a_lock_times_out_and_creates_no_user(
    settings: Settings, servers: Servers, tokens: Tokens, tenant: str
) -> None:
    lock = 'LOCK TABLE "user" IN ACCESS EXCLUSIVE MODE'
    async with (
        app_serving(settings.model_copy(update=LOCK_LIMIT)) as (_app, http),
        holding(servers.database_url, lock),
    ):
        response = await post(http, tokens.make(tenant, subject="newcomer"), ME)
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert error_codes(response.json()) == ["TIMEOUT"]
    connection = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    try:
        assert await connection.fetchval("SELECT count(*) FROM tenant WHERE slug = $1", tenant) == 0
    finally:
        await connection.close()


async def test_a_full_pool_answers_service_unavailable(
    settings: Settings, servers: Servers, tokens: Tokens, tenant: str
) -> None:
    """Every pooled connection waits on a lock: the next request waits only the pool timeout."""
    token = tokens.make(tenant)
    waiting = settings.model_copy(
        update={
            "compiled_execution": "off",
            "db_lock_timeout_seconds": BOUND,
            "db_pool_timeout_seconds": 0.2,
        }
    )
    async with app_serving(waiting) as (app, http):
        assert (await post(http, token, ME)).status_code == 200
        pool = app.state.runtime.engine.pool
        capacity = pool.size() + pool._max_overflow
        async with holding(servers.database_url, "LOCK TABLE company IN ACCESS EXCLUSIVE MODE"):
            blocked = [asyncio.create_task(post(http, token, COMPANIES)) for _ in range(capacity)]
            await _until_waiting_on_locks(servers.database_url, capacity)
            refused = await post(http, token, COMPANIES)
        answered = await asyncio.gather(*blocked)
    assert_unavailable(refused, "SERVICE_UNAVAILABLE")
    assert [r.status_code for r in answered] == [200] * capacity


async def _until_waiting_on_locks(database_url: str, count: int) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        async with asyncio.timeout(BOUND):
            while True:
                waiting = await connection.fetchval(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE application_name = 'insight-crm' AND wait_event_type = 'Lock'"
                )
                if waiting >= count:
                    return
                await asyncio.sleep(0.02)
    finally:
        await connection.close()


async def test_request_connections_carry_the_request_limits(settings: Settings) -> None:
    limited = settings.model_copy(
        update={"db_statement_timeout_seconds": 4.5, "db_lock_timeout_seconds": 1.5}
    )
    async with app_serving(limited) as (app, _http), app.state.runtime.engine.connect() as db:
        shown = await _limits_shown(db)
    assert shown == ("4500ms", "1500ms")


JOB_LIMITS = {
    "db_statement_timeout_seconds": BOUND * 2,
    "db_lock_timeout_seconds": BOUND * 2,
    "db_job_statement_timeout_seconds": BOUND * 2,
    "db_job_lock_timeout_seconds": 0.2,
}


async def test_run_job_has_the_job_limits(settings: Settings, servers: Servers) -> None:
    """A job blocked by a lock gives up at the jobs' lock timeout (not the requests')."""
    jobs = settings.model_copy(update=JOB_LIMITS)
    async with holding(servers.database_url, "LOCK TABLE activity IN ACCESS EXCLUSIVE MODE"):
        with pytest.raises(sa.exc.DBAPIError, match="lock timeout"):
            async with asyncio.timeout(BOUND):
                await run_once(jobs, "due-soon")


async def test_the_worker_has_the_job_limits(settings: Settings, servers: Servers) -> None:
    jobs = settings.model_copy(update=JOB_LIMITS)
    options = worker_settings(jobs, redis_settings=None)  # type: ignore[arg-type]
    redis = create_redis(str(settings.redis_url), settings)
    ctx: dict[str, Any] = {"redis": redis}
    await options["on_startup"](ctx)
    try:
        async with ctx["engine"].connect() as connection:
            shown = await _limits_shown(connection)
        async with holding(servers.database_url, "LOCK TABLE activity IN ACCESS EXCLUSIVE MODE"):
            with pytest.raises(sa.exc.DBAPIError, match="lock timeout"):
                async with asyncio.timeout(BOUND):
                    await due_soon(ctx)
    finally:
        await options["on_shutdown"](ctx)
        await redis.aclose()
    assert shown == (f"{BOUND * 2}s", "200ms")


async def _limits_shown(connection: Any) -> tuple[str, str]:
    statement = await connection.scalar(sa.text("SHOW statement_timeout"))
    lock = await connection.scalar(sa.text("SHOW lock_timeout"))
    return statement, lock
