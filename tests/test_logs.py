"""Structured logs: one access line per request and WebSocket operation, the request id echoed
and carried into errors, events and jobs, no secret in any line (app/telemetry/logs.py,
app/web/served.py)."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from arq import create_pool
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.redis import arq_redis_settings
from app.settings import Settings, SettingsError, load_settings
from app.telemetry import request_metrics
from app.telemetry.logs import LogFormat, setup_logging
from app.telemetry.record import current_request_id, request_id_set
from jobs.lexware import erp_push_record
from jobs.request_ids import cron_run
from tests.conftest import (
    Api,
    Servers,
    StatementCounter,
    Tokens,
    record_full_runs,
    serving,
)
from tests.lexware_fixtures import Lexware
from tests.live import LEGACY_WS, free_port, graphql_socket
from tests.test_cli import CLI, _clean_env, _run
from tests.test_lexware_crons import queued_job, worker_context
from tests.test_subscriptions import CRM_EVENTS, NEW_COMPANY

FIELDS = {
    "request_id",
    "transport",
    "tenant",
    "user",
    "operation",
    "operation_type",
    "status",
    "duration_ms",
    "statements",
    "response_bytes",
    "cost",
    "error_codes",
}
COMPANIES = "query Firmen { companies(first: 5) { totalCount edges { node { id name } } } }"


@dataclass
class Captured:
    """The JSON lines the process wrote while the test ran."""

    stream: io.StringIO

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.text.splitlines() if line.strip()]

    def access(self, request_id: str) -> dict[str, Any]:
        [line] = [
            line
            for line in self.lines()
            if line.get("logger") == "insight_crm.access" and line["request_id"] == request_id
        ]
        return line

    async def wait_for(self, found: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        async with asyncio.timeout(10):
            while True:
                for line in self.lines():
                    if found(line):
                        return line
                await asyncio.sleep(0.02)


@contextmanager
def logging_to(stream: io.StringIO, log_format: LogFormat) -> Iterator[None]:
    """The server's logging set up into `stream`; the root logger as it was afterwards."""
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    setup_logging("info", log_format, stream=stream)
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])


@pytest.fixture
def log_lines() -> Iterator[Captured]:
    """The server's logging set up as in production (JSON lines), into a buffer."""
    stream = io.StringIO()
    with logging_to(stream, "json"):
        yield Captured(stream)


async def user_id(api: Api) -> str:
    found: str = (await api.data("{ me { user { id } } }"))["me"]["user"]["id"]
    return found


async def test_a_query_has_an_access_line_with_every_field(
    api: Api, log_lines: Captured, sql: StatementCounter, compiled_sql: StatementCounter
) -> None:
    me = await user_id(api)
    sql.statements.clear()
    compiled_sql.statements.clear()
    response = await api.post({"query": COMPANIES}, token=api.token())
    request_id = response.headers["x-request-id"]
    line = log_lines.access(request_id)
    assert set(line) >= FIELDS and line["event"] == "request" and line["level"] == "info"
    assert line["transport"] == "http" and line["status"] == 200
    assert (line["tenant"], line["user"]) == (api.tenant, me)
    assert (line["operation"], line["operation_type"]) == ("Firmen", "query")
    # Both paths ran (the suite's verify mode): each statement the app sent is counted once.
    assert line["statements"] == sql.count + compiled_sql.count > 0
    assert line["response_bytes"] == len(response.content)
    assert line["cost"] == response.json()["extensions"]["cost"] > 0
    assert line["error_codes"] == [] and isinstance(line["duration_ms"], float)


async def test_a_mutation_has_its_access_line_and_its_event_the_request_id(
    api: Api, log_lines: Captured, owner_sessions: async_sessionmaker[AsyncSession]
) -> None:
    sent = f"client-{uuid.uuid4().hex[:8]}"
    response = await api.post(
        {"query": NEW_COMPANY, "variables": {"n": "Protokoll GmbH"}},
        token=api.token(),
        headers={"X-Request-ID": sent},
    )
    assert response.headers["x-request-id"] == sent  # a sane id of the client's is kept
    company_id = response.json()["data"]["createCompany"]["id"]
    line = log_lines.access(sent)
    assert line["operation_type"] == "mutation" and line["operation"] is None
    assert line["status"] == 200 and line["statements"] > 0 and line["tenant"] == api.tenant
    async with owner_sessions() as session:  # as a DBA looks (the serving role reads nothing)
        stored = await session.execute(
            text("SELECT request_id FROM crm_event WHERE entity_id = :id"), {"id": company_id}
        )
        assert stored.scalars().all() == [sent]


async def test_lines_written_while_serving_carry_its_request_id(
    api: Api, log_lines: Captured
) -> None:
    logging.getLogger().setLevel(logging.DEBUG)
    sent = f"lines-{uuid.uuid4().hex[:8]}"
    unique = f"{NEW_COMPANY} # {sent}"  # a document the compiler has not seen: it says why not
    await api.post(
        {"query": unique, "variables": {"n": "Zeilen GmbH"}},
        token=api.token(),
        headers={"X-Request-ID": sent},
    )
    [why] = [line for line in log_lines.lines() if line["event"].startswith("not compiled")]
    assert why["request_id"] == sent and why["logger"] == "resolvers.compiled.extension"


async def test_refused_requests_have_access_lines_and_name_their_request(
    api: Api, log_lines: Captured, settings: Settings
) -> None:
    unauthenticated = await api.post({"query": COMPANIES}, token="not-a-token")
    too_large = await api.post(
        {"query": COMPANIES, "variables": {"pad": "x" * settings.max_body_bytes}},
        token=api.token(),
    )
    wrong_type = await api.client.post(
        "/graphql", content=b"query", headers={"content-type": "text/plain"}
    )
    invalid = await api.post({"query": "query Kaputt { nichtDa }"}, token=api.token())
    for response, status, code in (
        (unauthenticated, 401, "UNAUTHENTICATED"),
        (too_large, 413, "BAD_USER_INPUT"),
        (wrong_type, 415, "BAD_USER_INPUT"),
        (invalid, 200, "GRAPHQL_VALIDATION_FAILED"),
    ):
        assert response.status_code == status, response.text
        request_id = response.headers["x-request-id"]
        [error] = response.json()["errors"]
        assert error["extensions"] == {**error["extensions"], "code": code, "requestId": request_id}
        line = log_lines.access(request_id)
        assert set(line) >= FIELDS
        assert (line["status"], line["error_codes"]) == (status, [code])
        assert line["response_bytes"] == len(response.content)
    assert log_lines.access(invalid.headers["x-request-id"])["operation"] == "Kaputt"


async def test_a_malformed_request_id_is_replaced_and_never_logged(
    api: Api, log_lines: Captured
) -> None:
    for malformed in ("has spaces in it", "x" * 65, "semi;colon", "ünïcode"):
        response = await api.post(
            {"query": COMPANIES}, token=api.token(), headers={"X-Request-ID": malformed.encode()}
        )
        ours = response.headers["x-request-id"]
        assert ours != malformed and len(ours) == 32
        assert log_lines.access(ours)["status"] == 200
        assert malformed not in log_lines.text and malformed.encode() not in log_lines.text.encode()


async def test_the_compiled_path_writes_the_same_access_line(
    api: Api, settings: Settings, log_lines: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document answered from its plan without strawberry's view (_answer_admitted)."""
    async with serving(settings.model_copy(update={"compiled_execution": "on"})) as client:
        compiled = Api(client, api.tokens, api.tenant)
        await compiled.data("{ me { roles } }")  # this process knows the user from now on
        first = await compiled.post({"query": COMPANIES}, token=api.token())
        full_runs = record_full_runs(monkeypatch)
        admitted = await compiled.post({"query": COMPANIES}, token=api.token())
    assert full_runs == []  # the second was answered by the plan straight away
    before = log_lines.access(first.headers["x-request-id"])
    line = log_lines.access(admitted.headers["x-request-id"])
    assert (line["operation"], line["operation_type"], line["status"]) == ("Firmen", "query", 200)
    assert line["tenant"] == api.tenant and line["user"] == before["user"] is not None
    assert line["statements"] == before["statements"] > 0
    assert line["cost"] == admitted.json()["extensions"]["cost"] == before["cost"]
    assert line["response_bytes"] == len(admitted.content)


async def test_websocket_operations_have_access_lines(
    api: Api, live: str, log_lines: Captured
) -> None:
    connection_id = f"ws-{uuid.uuid4().hex[:8]}"
    headers = {"X-Request-ID": connection_id}
    ws = {"transport": "ws", "operation_type": "subscription", "operation": "anonymous"}
    before = {
        outcome: sample("crm_requests_total", **ws, outcome=outcome)
        for outcome in ("cancelled", "closed")
    }
    ok = {**ws, "operation_type": "query", "operation": "Firmen", "outcome": "ok"}
    answered = sample("crm_requests_total", **ok)
    async with graphql_socket(live, additional_headers=headers) as socket:
        assert socket.ws.response is not None
        assert socket.ws.response.headers["x-request-id"] == connection_id
        assert (await socket.init(api.token()))["type"] == "connection_ack"
        await socket.send({"id": "q", "type": "subscribe", "payload": {"query": COMPANIES}})
        assert "companies" in await socket.next_data()
        assert (await socket.receive())["type"] == "complete"
        await socket.send({"id": "bad", "type": "subscribe", "payload": {"query": "{ nichtDa }"}})
        error = await socket.receive()
        assert error["type"] == "error"
        assert error["payload"][0]["extensions"]["requestId"] == f"{connection_id}.2"
        subscription = await socket.subscribe(CRM_EVENTS, {"types": ["crm.company.*"]})
        await asyncio.sleep(0.3)  # the subscription registers
        await socket.send({"id": subscription, "type": "complete"})
        await socket.subscribe(CRM_EVENTS, {"types": ["crm.company.*"]})
        await asyncio.sleep(0.3)  # live when the socket closes
    query = await log_lines.wait_for(lambda line: line.get("request_id") == f"{connection_id}.1")
    assert set(query) >= FIELDS and query["transport"] == "ws"
    assert (query["operation"], query["operation_type"]) == ("Firmen", "query")
    assert (query["status"], query["tenant"], query["error_codes"]) == ("completed", api.tenant, [])
    assert query["statements"] > 0 and query["response_bytes"] > 0 and query["cost"] > 0
    failed = log_lines.access(f"{connection_id}.2")
    assert (failed["status"], failed["error_codes"]) == ("error", ["GRAPHQL_VALIDATION_FAILED"])
    stopped = await log_lines.wait_for(lambda line: line.get("request_id") == f"{connection_id}.3")
    assert (stopped["status"], stopped["operation_type"]) == ("cancelled", "subscription")
    closed = await log_lines.wait_for(lambda line: line.get("request_id") == f"{connection_id}.4")
    assert closed["status"] == "closed"
    for outcome, count in before.items():
        assert sample("crm_requests_total", **ws, outcome=outcome) == count + 1
    assert sample("crm_requests_total", **ok) == answered + 1


async def test_legacy_websocket_operations_have_access_lines(
    api: Api, live: str, log_lines: Captured
) -> None:
    connection_id = f"legacy-{uuid.uuid4().hex[:8]}"
    headers = {"X-Request-ID": connection_id}
    async with graphql_socket(live, LEGACY_WS, additional_headers=headers) as socket:
        assert (await socket.init(api.token()))["type"] == "connection_ack"
        await socket.send({"id": "q", "type": "start", "payload": {"query": COMPANIES}})
        assert "companies" in await socket.next_data()
        assert (await socket.receive())["type"] == "complete"
        await socket.send({"id": "bad", "type": "start", "payload": {"query": 42}})
        refused = await socket.receive()
        assert refused["payload"]["extensions"]["requestId"] == f"{connection_id}.2"
        subscription = await socket.subscribe(CRM_EVENTS, {"types": ["crm.company.*"]})
        await asyncio.sleep(0.3)  # the subscription registers
        await socket.send({"id": subscription, "type": "stop"})
        assert (await socket.receive())["type"] == "complete"
    query = log_lines.access(f"{connection_id}.1")
    assert (query["transport"], query["status"], query["operation"]) == (
        "ws",
        "completed",
        "Firmen",
    )
    assert query["statements"] > 0 and query["response_bytes"] > 0
    assert log_lines.access(f"{connection_id}.2")["status"] == "refused"
    stopped = await log_lines.wait_for(lambda line: line.get("request_id") == f"{connection_id}.3")
    assert (stopped["status"], stopped["operation_type"]) == ("cancelled", "subscription")


async def test_no_token_or_lexware_key_in_any_line(
    log_lines: Captured, lexware: Lexware, tokens: Tokens
) -> None:
    """Across requests with a bad token, a good one, and the Lexware key set again."""
    good = lexware.api.token()
    bad = tokens.make(lexware.api.tenant, "admin", subject="x") + "tampered"
    logging.getLogger().setLevel(logging.DEBUG)  # what a debugging operator would see
    await lexware.api.post({"query": COMPANIES}, token=bad)
    await lexware.api.post({"query": COMPANIES}, token=good)
    key = f"key-{uuid.uuid4().hex}"
    lexware.fake.add_api_key(key)
    setting = "mutation($k: String!) { setLexwareApiKey(apiKey: $k) { working } }"
    await lexware.api.post({"query": setting, "variables": {"k": key}}, token=good)
    logging.getLogger("insight_crm.test").warning("sent Bearer %s", good)  # defence in depth
    assert log_lines.lines(), "nothing was logged"
    for secret in (good, bad, bad.split(".")[1], good.split(".")[2], key, lexware.key):
        assert secret not in log_lines.text


async def test_the_push_a_mutation_causes_logs_with_its_request_id(
    lexware: Lexware, servers: Servers, settings: Settings, log_lines: Captured
) -> None:
    arq = arq_redis_settings(servers.redis_url, settings)
    pool = await create_pool(arq, default_queue_name="logs-erp")
    from jobs.lexware import enqueue_erp_pushes

    listener = asyncio.create_task(enqueue_erp_pushes(pool))
    sent = f"push-{uuid.uuid4().hex[:8]}"
    try:
        await asyncio.sleep(0.3)  # the listener subscribes
        create = "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }"
        response = await lexware.api.post(
            {"query": create, "variables": {"i": {"name": "Kette GmbH", "tags": ["ERP"]}}},
            token=lexware.api.token(),
            headers={"X-Request-ID": sent},
        )
        company_id = response.json()["data"]["createCompany"]["id"]
        info = await queued_job(pool, f"erp-push:{company_id}", "logs-erp")
        assert info is not None and info.kwargs == {"request_id": sent}
        assert await erp_push_record(worker_context(lexware), *info.args, **info.kwargs)
    finally:
        listener.cancel()
        await pool.aclose()
    pushed = [
        line
        for line in log_lines.lines()
        if line["logger"] == "jobs.lexware" and line["event"].startswith("ERP push")
    ]
    assert [line["request_id"] for line in pushed] == [sent]
    assert "sent" in pushed[0]["event"]


async def test_the_relayed_message_carries_the_request_id(api: Api, servers: Servers) -> None:
    redis = Redis.from_url(servers.redis_url)
    sent = f"relay-{uuid.uuid4().hex[:8]}"
    async with redis.pubsub() as pubsub:
        await pubsub.subscribe("crm.company.created")
        response = await api.post(
            {"query": NEW_COMPANY, "variables": {"n": "Relais GmbH"}},
            token=api.token(),
            headers={"X-Request-ID": sent},
        )
        company_id = response.json()["data"]["createCompany"]["id"]
        async with asyncio.timeout(10):
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
                if message is not None:
                    payload = orjson.loads(message["data"])
                    if payload["entityId"] == company_id:
                        break
    await redis.aclose()
    assert payload["requestId"] == sent


async def test_a_cron_run_has_a_request_id_of_its_own() -> None:
    seen: list[str | None] = []

    async def due_soon(_ctx: dict[str, Any]) -> None:
        seen.append(current_request_id())

    run = cron_run(due_soon)
    await run({})
    await run({})
    assert run.__qualname__ == due_soon.__qualname__  # ARQ names the cron after it
    assert all(found and found.startswith("cron-due_soon-") for found in seen)
    assert len(set(seen)) == 2 and current_request_id() is None


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_the_request_metrics_move(api: Api, log_lines: Captured) -> None:
    ok = {"transport": "http", "operation_type": "query", "operation": "Firmen", "outcome": "ok"}
    refused = {**ok, "operation_type": "unknown", "operation": "other", "outcome": "error"}
    before = {
        "ok": sample("crm_requests_total", **ok),
        "refused": sample("crm_requests_total", **refused),
        "errors": sample("crm_errors_total", code="UNAUTHENTICATED"),
        "duration": sample(
            "crm_request_duration_seconds_count",
            transport="http",
            operation_type="query",
            operation="Firmen",
        ),
        "statements": sample(
            "crm_sql_statements_per_request_sum", transport="http", operation_type="query"
        ),
        "bytes": sample("crm_response_bytes_sum", transport="http", operation_type="query"),
    }
    answered = await api.post({"query": COMPANIES}, token=api.token())
    await api.post({"query": COMPANIES}, token="not-a-token")
    line = log_lines.access(answered.headers["x-request-id"])
    assert sample("crm_requests_total", **ok) == before["ok"] + 1
    assert sample("crm_requests_total", **refused) == before["refused"] + 1
    assert sample("crm_errors_total", code="UNAUTHENTICATED") == before["errors"] + 1
    duration = sample(
        "crm_request_duration_seconds_count",
        transport="http",
        operation_type="query",
        operation="Firmen",
    )
    assert duration == before["duration"] + 1
    statements = sample(
        "crm_sql_statements_per_request_sum", transport="http", operation_type="query"
    )
    assert statements == before["statements"] + line["statements"]
    sent = sample("crm_response_bytes_sum", transport="http", operation_type="query")
    assert sent == before["bytes"] + len(answered.content)


async def test_operation_labels_come_only_from_valid_documents(api: Api) -> None:
    invented = f"Erfunden{uuid.uuid4().hex}"

    def count(operation: str, outcome: str) -> float:
        labels = {"transport": "http", "operation_type": "query", "operation": operation}
        return sample("crm_requests_total", **labels, outcome=outcome)

    other, named = count("other", "error"), count(invented, "error")
    # A name whose document does not validate never becomes a label.
    await api.post({"query": f"query {invented} {{ nichtDa }}"}, token=api.token())
    assert count(invented, "error") == named == 0
    assert count("other", "error") == other + 1
    # Once its document is valid, it is one (while the allowlist has room).
    await api.post({"query": f"query {invented} {{ me {{ roles }} }}"}, token=api.token())
    assert count(invented, "ok") == 1


def test_the_commands_write_every_library_line_as_json(tmp_path: Path, servers: Servers) -> None:
    """alembic's and arq's lines (with -v) come out as JSON lines like ours; the command's own
    one-line messages stay plain text for the person at the terminal."""
    env = _clean_env(
        DATABASE_URL=servers.database_url, REDIS_URL=servers.redis_url, LOG_FORMAT="json"
    )
    result = _run("worker", "--burst", "-v", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    logged = [orjson.loads(line) for line in lines if line.startswith("{")]
    said = [line for line in lines if not line.startswith("{")]
    assert {line["logger"].split(".")[0] for line in logged} >= {"alembic", "arq"}
    assert all({"event", "level", "timestamp"} <= set(line) for line in logged)
    assert "database: schema up to date" in said and "worker: running due jobs once" in said


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("log_format", "stream", "json_lines"),
    [("auto", Terminal, False), ("auto", io.StringIO, True), ("console", io.StringIO, False)],
)
def test_log_format_auto_is_readable_on_a_terminal_and_json_elsewhere(
    log_format: LogFormat, stream: type[io.StringIO], json_lines: bool
) -> None:
    out = stream()
    with logging_to(out, log_format), request_id_set("abc-1"):
        logging.getLogger("insight_crm.test").info("hello %s", "there")
    [line] = out.getvalue().splitlines()
    if json_lines:
        assert orjson.loads(line)["event"] == "hello there"
    else:  # coloured on a terminal only
        plain = re.sub(r"\x1b\[[0-9;]*m", "", line)
        assert (plain != line) is (stream is Terminal)
        assert not plain.startswith("{") and "hello there" in plain and "request_id=abc-1" in plain


def test_log_format_is_checked() -> None:
    assert load_settings(log_format="JSON").log_format == "json"
    with pytest.raises(SettingsError, match="log_format"):
        load_settings(log_format="xml")


def test_values_under_secret_keys_are_redacted(log_lines: Captured) -> None:
    logging.getLogger("insight_crm.test").warning(
        "calling Lexware",
        extra={
            "api_key": "lx-123",
            "headers": {"Authorization": "Bearer abc.def", "Accept": "application/json"},
            "variables": {"input": {"name": "Geheim GmbH"}},
            "detail": {"password": "hunter2", "attempt": 2},
        },
    )
    [line] = log_lines.lines()
    assert line["api_key"] == line["variables"] == "[redacted]"
    assert line["headers"] == {"Authorization": "[redacted]", "Accept": "application/json"}
    assert line["detail"] == {"password": "[redacted]", "attempt": 2}
    for secret in ("lx-123", "abc.def", "Geheim", "hunter2"):
        assert secret not in log_lines.text


def test_the_operation_allowlist_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(request_metrics, "_allowed", set())  # this process's list, empty
    names = [f"Op{n}" for n in range(request_metrics.ALLOWLIST_SIZE + 1)]
    for name in [*names, "x" * 65, "has-dash"]:
        request_metrics.allow_operation(name)
    labels = [request_metrics.operation_label(name) for name in names]
    assert labels == [*names[:-1], "other"]  # the first ones seen keep their label
    assert request_metrics.operation_label("x" * 65) == "other"
    assert request_metrics.operation_label("has-dash") == "other"
    assert request_metrics.operation_label(None) == "anonymous"


def test_serve_writes_uvicorns_lines_and_the_access_line_as_json(
    tmp_path: Path, settings: Settings, tokens: Tokens, tenant: str
) -> None:
    """The production path end to end: `insight-crm serve`, its uvicorn lines through our
    handler (log_config=None), one access line per request on stderr."""
    assert settings.jwt_public_key is not None
    env = _clean_env(
        DATABASE_URL=str(settings.database_url),
        MIGRATION_DATABASE_URL=str(settings.owner_database_url),
        REDIS_URL=str(settings.redis_url),
        JWT_PUBLIC_KEY=settings.jwt_public_key.get_secret_value(),
        JWT_ISSUER=str(settings.jwt_issuer),
        JWT_AUDIENCE=str(settings.jwt_audience),
        LOG_FORMAT="json",
    )
    port = free_port()
    stderr = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [CLI, "serve", "-v", "--no-worker", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            alive = server.poll() is None and time.monotonic() < deadline
            assert alive, ("serve did not start", (tmp_path / "serve.log").read_text()[-2000:])
            try:
                if httpx.get(f"http://127.0.0.1:{port}/livez", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        token = tokens.make(tenant)
        answered = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": COMPANIES},
            headers={"authorization": f"Bearer {token}", "x-request-id": "served-1"},
            timeout=10,
        )
        assert answered.status_code == 200 and answered.headers["x-request-id"] == "served-1"
    finally:
        server.terminate()
        server.wait(30)
        stderr.close()
    lines = (tmp_path / "serve.log").read_text().splitlines()
    logged = [orjson.loads(line) for line in lines if line.startswith("{")]
    assert any(line["logger"].startswith("uvicorn") for line in logged)
    [access] = [line for line in logged if line.get("request_id") == "served-1"]
    assert (access["event"], access["status"], access["operation"]) == ("request", 200, "Firmen")
    assert token not in "\n".join(lines)
