"""Traces: with OTEL_EXPORTER_OTLP_ENDPOINT set, spans with their parent links arrive at a real
OTLP/HTTP receiver on 127.0.0.1; unset, nothing is installed.

The traced server is a real `insight-crm serve --worker` process: OpenTelemetry's tracer
provider and its instrumentations are process-global, so tracing never touches the test
process (and its other apps). Its batch processor waits a minute between exports: every span
below arrives by the flush when the process stops.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import asyncpg
import httpx
import orjson
import pytest
import redis.asyncio
from aiohttp import ClientSession
from opentelemetry import trace
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from wrapt import FunctionWrapper

from app.events.message import CrmEventMessage
from app.settings import Settings, SettingsError, load_settings
from app.telemetry import tracing
from fake_lexware.server import FakeLexware, running_fake
from tests.conftest import Tokens, serving
from tests.lexware_fixtures import SET_KEY
from tests.live import graphql_socket
from tests.otlp_receiver import OtlpReceiver, Received, otlp_receiver
from tests.test_deals import PIPELINE, STAGES
from tests.test_scale_out import CLI, server_environment, until_live

SERVER = ProtoSpan.SpanKind.SPAN_KIND_SERVER
CLIENT = ProtoSpan.SpanKind.SPAN_KIND_CLIENT
ASYNCPG = "opentelemetry.instrumentation.asyncpg"
REDIS = "opentelemetry.instrumentation.redis"
AIOHTTP = "opentelemetry.instrumentation.aiohttp_client"
COMPANIES = "query Companies { companies(first: 5) { edges { node { id name } } } }"
# A value inline in the document: never in a span (nor are variables).
BROKEN = 'query Broken { company(id: "geheim-4711") { id } }'
PEEK = "query Peek($s: String) { companies(filter: {search: $s}) { totalCount } }"
WS_EVENTS = "subscription WsEvents { crmEvents { id } }"
# dealChanged is shared: a second subscriber joins the first one's running stream.
WS_DEALS = "subscription WsDeals($p: ID!) { dealChanged(pipelineId: $p) { dealId } }"
CREATE_ERP = "mutation CreateErp($i: CreateCompanyInput!) { createCompany(input: $i) { id name } }"


@contextmanager
def server_process(
    command: list[str], env: dict[str, str], stderr: IO[bytes] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """The process; killed at the end if the test did not stop it itself."""
    process = subprocess.Popen(command, env=env, stderr=stderr)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(20)


class Traced:
    """A request sent inside a trace of the test's own (its `traceparent` header): the server's
    spans of it share that trace id, and the server's request span is a child of `parent`."""

    def __init__(self) -> None:
        self.trace_id = secrets.token_hex(16)
        self.parent = secrets.token_hex(8)

    @property
    def header(self) -> dict[str, str]:
        return {"traceparent": f"00-{self.trace_id}-{self.parent}-01"}


@dataclass
class Scenario:
    receiver: OtlpReceiver
    fake: FakeLexware
    key: str
    set_key: Traced
    full_way: Traced
    compiled: Traced
    create: Traced
    websocket: Traced
    joined: Traced
    broken: Traced
    exit_code: int
    log_lines: list[dict[str, Any]]  # the process's JSON log lines


async def _post(
    http: httpx.AsyncClient, token: str, traced: Traced, query: str, variables: Any = None
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}", **traced.header}
    body = {"query": query, "variables": variables or {}}
    answer: dict[str, Any] = (await http.post("/graphql", json=body, headers=headers)).json()
    assert "errors" not in answer, answer
    return answer


async def _pushed(fake: FakeLexware, key: str) -> None:
    """Until the job's push reached the fake (it runs PUSH_DELAY_SECONDS after the change)."""
    async with asyncio.timeout(30):
        while True:
            if any(r.api_key == key and r.method == "POST" for r in fake.requests):
                return
            await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
async def scenario(settings: Settings, tokens: Tokens) -> AsyncIterator[Scenario]:
    """A traced server process: a mutation that calls Lexware, a query the full way and again
    from its compiled plan, a mutation whose event queues the ERP push job (which calls
    Lexware), WebSocket operations; then the process stops and flushes its spans."""
    from tests.live import free_port

    async with (
        otlp_receiver() as (otlp_url, receiver),
        running_fake(FakeLexware(rate_limit_enabled=False)) as (lexware_url, fake),
    ):
        port = free_port()
        environment = {
            **server_environment(settings, "traces"),
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_url,
            "OTEL_BSP_SCHEDULE_DELAY": "60000",  # only the flush at the end sends
            "OTEL_SERVICE_NAME": "crm-under-test",
            "LOG_LEVEL": "info",  # the access lines
            "LEXWARE_BASE_URL": lexware_url,
            "LEXWARE_KEY_SECRET": "test-secret",
            "LEXWARE_REQUEST_INTERVAL_MS": "5",
        }
        command = [CLI, "serve", "--worker", "--host", "127.0.0.1", "--port", str(port)]
        log_file = tempfile.TemporaryFile()  # noqa: SIM115 (read after the process ends)
        with log_file, server_process(command, environment, stderr=log_file) as process:
            host = f"127.0.0.1:{port}"
            await until_live(host)
            key = f"key-{uuid.uuid4().hex}"
            fake.add_api_key(key)
            token = tokens.make(f"t-{uuid.uuid4().hex[:12]}", subject="tracer")
            steps = [Traced() for _ in range(7)]
            set_key, full_way, compiled, create, websocket, joined, broken = steps
            async with httpx.AsyncClient(base_url=f"http://{host}", timeout=30) as http:
                await _post(http, token, set_key, SET_KEY, {"k": key})
                await _post(http, token, full_way, COMPANIES)
                await _post(http, token, compiled, COMPANIES)
                erp = {"name": "Verfolgt GmbH", "tags": ["ERP"]}
                await _post(http, token, create, CREATE_ERP, {"i": erp})
                board = {"i": {"name": "Vertrieb", "stages": STAGES}}
                pipeline = await _post(http, token, Traced(), PIPELINE, board)
                deals = {"p": pipeline["data"]["createPipeline"]["id"]}
                headers = {"authorization": f"Bearer {token}", **broken.header}
                refused = await http.post("/graphql", json={"query": BROKEN}, headers=headers)
                assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
                # Over GET the document and its variables are the query string.
                peek = {"query": PEEK, "variables": orjson.dumps({"s": "geheim-get"}).decode()}
                got = await http.get("/graphql", params=peek, headers=headers)
                assert "errors" not in got.json(), got.json()
                await http.get("/health")
            async with (
                graphql_socket(host, additional_headers=websocket.header) as socket,
                graphql_socket(host, additional_headers=joined.header) as second,
            ):
                assert (await socket.init(token))["type"] == "connection_ack"
                await socket.subscribe("query WsMe { me { user { email } } }")
                assert "me" in await socket.next_data()
                await socket.subscribe(WS_EVENTS)
                await socket.subscribe(WS_DEALS, deals)
                await asyncio.sleep(0.3)  # the subscriptions have started
                # The same shared subscription of the same tenant joins the running stream.
                assert (await second.init(token))["type"] == "connection_ack"
                await second.subscribe(WS_DEALS, deals)
                await asyncio.sleep(0.3)
            await _pushed(fake, key)
            process.send_signal(signal.SIGTERM)
            exit_code = await asyncio.to_thread(process.wait, 30)
            log_file.seek(0)
            logged = log_file.read().decode().splitlines()
        yield Scenario(
            receiver,
            fake,
            key,
            set_key,
            full_way,
            compiled,
            create,
            websocket,
            joined,
            broken,
            exit_code,
            [orjson.loads(line) for line in logged if line.startswith("{")],
        )


def _only(spans: list[Received], **match: Any) -> Received:
    found = [s for s in spans if all(getattr(s, k) == v for k, v in match.items())]
    assert len(found) == 1, (match, [(s.name, s.scope, s.parent_id) for s in spans])
    return found[0]


def _request_span(receiver: OtlpReceiver, traced: Traced) -> Received:
    """The server's span of the request: a SERVER span under the client's own span."""
    spans = receiver.of_trace(traced.trace_id)
    return _only(spans, parent_id=traced.parent, kind=SERVER)


def _descends(span: Received, ancestor: Received, spans: list[Received]) -> bool:
    by_id = {s.span_id: s for s in spans}
    current: Received | None = span
    while current is not None:
        if current.parent_id == ancestor.span_id:
            return True
        current = by_id.get(current.parent_id)
    return False


def _check_operation(receiver: OtlpReceiver, traced: Traced, name: str | None) -> Received:
    """The operation span is a child of the request span, and every SQL statement of the
    request is in its trace, those the operation sent its children."""
    spans = receiver.of_trace(traced.trace_id)
    request = _request_span(receiver, traced)
    operation = _only(spans, name=f"GraphQL Query: {name}" if name else "GraphQL Query")
    assert operation.parent_id == request.span_id
    statements = [s for s in spans if s.scope == ASYNCPG]
    assert [s for s in statements if s.parent_id == operation.span_id], statements
    assert all(_descends(s, request, spans) for s in statements)
    assert all(s.kind == CLIENT for s in statements)
    return operation


@pytest.mark.usefixtures("scenario")
async def test_the_process_stopped_cleanly_and_sent_its_spans(scenario: Scenario) -> None:
    assert scenario.exit_code == 0
    assert scenario.receiver.content_types == {"application/x-protobuf"}
    assert {s.service for s in scenario.receiver.spans} == {"crm-under-test"}
    # The health checks polled while it started are not traced.
    paths = {s.attributes.get("http.target") for s in scenario.receiver.spans}
    assert "/livez" not in paths and "/health" not in paths


async def test_the_access_line_names_the_trace_of_its_request(scenario: Scenario) -> None:
    """Logs and traces meet: an access line carries the trace id its spans are filed under."""
    access = [line for line in scenario.log_lines if line.get("event") == "request"]
    traced = {line.get("trace_id") for line in access}
    for request in (scenario.full_way, scenario.compiled, scenario.create, scenario.broken):
        assert request.trace_id in traced
    socket = [line for line in access if line.get("transport") == "ws"]
    assert scenario.websocket.trace_id in {line.get("trace_id") for line in socket}


async def test_a_query_has_request_operation_and_sql_spans_on_both_paths(
    scenario: Scenario,
) -> None:
    receiver = scenario.receiver
    full = _check_operation(receiver, scenario.full_way, "Companies")
    # The full way's operation span is strawberry's extension: parsing and validation too.
    children = {s.name for s in receiver.of_trace(full.trace_id) if s.parent_id == full.span_id}
    assert {"GraphQL Parsing", "GraphQL Validation"} <= children
    compiled = _check_operation(receiver, scenario.compiled, "Companies")
    assert compiled.scope == "insight-crm"  # the fast path's own span, no extension ran
    statements = [s for s in receiver.spans if s.scope == ASYNCPG]
    assert not [s for s in statements if "db.statement.parameters" in s.attributes]


async def test_a_failed_operation_is_marked_and_no_span_holds_what_the_client_sent(
    scenario: Scenario,
) -> None:
    receiver = scenario.receiver
    operation = _only(receiver.of_trace(scenario.broken.trace_id), name="GraphQL Query: Broken")
    assert operation.failed and operation.attributes["graphql.errors"] == 1
    answered = receiver.of_trace(scenario.full_way.trace_id)
    assert not _only(answered, name="GraphQL Query: Companies").failed
    # Inline, a variable, a variable in a GET request's query string, a Lexware key.
    sent = ("geheim-4711", "Verfolgt GmbH", "geheim-get", scenario.key)
    values = [str(value) for s in receiver.spans for value in s.attributes.values()]
    assert not [value for value in values if any(text in value for text in sent)]


async def test_a_lexware_call_is_a_span_and_carries_the_trace_to_lexware(
    scenario: Scenario,
) -> None:
    receiver, traced = scenario.receiver, scenario.set_key
    operation = _check_operation(receiver, traced, None)  # SET_KEY is anonymous
    spans = receiver.of_trace(traced.trace_id)
    calls = [s for s in spans if s.scope == AIOHTTP]
    assert calls and all(_descends(s, operation, spans) for s in calls)
    sent = [r for r in scenario.fake.requests if r.api_key == scenario.key and r.method == "GET"]
    assert sent and all(r.traceparent for r in sent)
    assert {r.traceparent.split("-")[1] for r in sent if r.traceparent} == {traced.trace_id}


async def test_the_job_a_mutation_queues_runs_in_its_trace(scenario: Scenario) -> None:
    receiver, traced = scenario.receiver, scenario.create
    _check_operation(receiver, traced, "CreateErp")
    spans = receiver.of_trace(traced.trace_id)
    job = _only(spans, name="job erp_push_record")
    assert job.parent_id in {s.span_id for s in spans}  # under a span of the request
    assert [s for s in spans if s.scope == ASYNCPG and _descends(s, job, spans)]
    pushes = [s for s in spans if s.scope == AIOHTTP and _descends(s, job, spans)]
    assert pushes
    posted = [r for r in scenario.fake.requests if r.api_key == scenario.key and r.method == "POST"]
    assert posted and {r.traceparent.split("-")[1] for r in posted if r.traceparent} == {
        traced.trace_id
    }


async def test_a_cron_run_is_a_root_span_with_its_redis_calls(scenario: Scenario) -> None:
    spans = scenario.receiver.spans
    heartbeats = [s for s in spans if s.name == "cron heartbeat"]
    assert heartbeats and all(s.parent_id == "" for s in heartbeats)
    calls = [s for s in spans if s.scope == REDIS]
    assert any(s.parent_id in {h.span_id for h in heartbeats} for s in calls)
    # Background polls (relay, hub, the worker's queue) are no root spans of their own.
    assert not [s for s in spans if s.kind == CLIENT and s.parent_id == ""]


async def test_websocket_operations_have_spans_under_the_socket(scenario: Scenario) -> None:
    spans = scenario.receiver.of_trace(scenario.websocket.trace_id)
    socket = _only(spans, parent_id=scenario.websocket.parent, kind=SERVER)
    for name in ("WsMe", "WsEvents"):
        operation = _only(spans, name=f"GraphQL Query: {name}")
        assert operation.parent_id == socket.span_id
    started = [s for s in spans if s.name == "GraphQL Query: WsDeals"]
    assert started and all(s.parent_id == socket.span_id for s in started)
    # A subscriber that joins a running stream (no extension runs for it) has its span too.
    spans = scenario.receiver.of_trace(scenario.joined.trace_id)
    socket = _only(spans, parent_id=scenario.joined.parent, kind=SERVER)
    joined = _only(spans, name="GraphQL Query: WsDeals")
    assert joined.parent_id == socket.span_id


# Without the variable: nothing at all.


async def test_without_an_endpoint_no_provider_or_instrumentation_is_installed(
    settings: Settings,
) -> None:
    assert settings.otel_exporter_otlp_endpoint is None
    async with serving(settings) as http:
        assert (await http.get("/livez")).status_code == 200
        assert not tracing.enabled()
    assert type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider"
    # What the instrumentations would wrap (wrapt's wrappers in the classes' dicts).
    methods = [
        (asyncpg.connection.Connection, "fetch"),
        (asyncpg.prepared_stmt.PreparedStatement, "fetch"),
        (redis.asyncio.Redis, "execute_command"),
        (ClientSession, "__init__"),
    ]
    wrapped = [(c, name) for c, name in methods if isinstance(vars(c)[name], FunctionWrapper)]
    assert not wrapped
    assert tracing.current_traceparent() is None


def test_the_endpoint_must_be_an_http_url() -> None:
    with pytest.raises(SettingsError, match="OTEL_EXPORTER_OTLP_ENDPOINT"):
        load_settings(otel_exporter_otlp_endpoint="collector:4318", _env_file=None)
    blank = load_settings(otel_exporter_otlp_endpoint="  ", _env_file=None)
    assert blank.otel_exporter_otlp_endpoint is None


def test_an_event_carries_only_a_well_formed_traceparent() -> None:
    traced = Traced()
    parent = traced.header["traceparent"]
    event = {
        "id": "1",
        "type": "crm.company.created",
        "tenantId": str(uuid.uuid4()),
        "entity": "company",
        "entityId": str(uuid.uuid4()),
        "actorId": None,
        "occurredAt": "2026-12-07T12:00:00+00:00",
        "changes": {},
    }
    kept = CrmEventMessage.from_json(orjson.dumps({**event, "traceparent": parent}))
    assert kept.traceparent == parent
    assert orjson.loads(kept.to_json())["traceparent"] == parent
    refused = CrmEventMessage.from_json(orjson.dumps({**event, "traceparent": "x" * 5000}))
    assert refused.traceparent is None
    assert "traceparent" not in orjson.loads(refused.to_json())


async def test_run_job_and_the_worker_send_their_spans_when_they_end(
    settings: Settings,
) -> None:
    """`run-job` and `worker` own tracing for their run: the spans of a cron leave with the
    flush at their end (the batch processor would wait a minute)."""
    async with otlp_receiver() as (otlp_url, receiver):
        environment = {
            **server_environment(settings, "traces-jobs"),
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_url,
            "OTEL_BSP_SCHEDULE_DELAY": "60000",
        }
        commands = {"by-hand": ["run-job", "heartbeat"], "worker": ["worker", "--burst"]}
        finished = await asyncio.gather(
            *(
                asyncio.to_thread(_run, [CLI, *args], {**environment, "OTEL_SERVICE_NAME": name})
                for name, args in commands.items()
            )
        )
    assert finished == [0, 0]
    beats = {s.service for s in receiver.spans if s.name == "cron heartbeat" and not s.parent_id}
    assert beats == {"by-hand", "worker"}


def _run(command: list[str], env: dict[str, str]) -> int:
    return subprocess.run(command, env=env, timeout=120, check=False).returncode
