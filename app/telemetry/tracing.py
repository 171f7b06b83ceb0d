"""Traces (OpenTelemetry), on when OTEL_EXPORTER_OTLP_ENDPOINT is set, else nothing at all.

`start(settings)` sets up the process's tracing once: a TracerProvider (resource service.name
and service.version) whose BatchSpanProcessor sends spans to the OTLP endpoint over HTTP/
protobuf, and the official instrumentations of asyncpg (every SQL statement, ORM and compiled
path alike; never the parameters), Redis (commands, arguments replaced by `?`) and aiohttp's
client (the Lexware calls, which carry `traceparent` on to Lexware). The HTTP request span is
opentelemetry-instrumentation-asgi around the app (`asgi_middleware`), the GraphQL operation
strawberry's extension (resolvers/tracing.py) or, for the compiled fast path, `operation_span`.
A job queued for a request carries the request's `traceparent` (the event's, through the
outbox: `current_traceparent`) and runs in a span under it; a cron run is a root span of its
own (`traced_job`, `traced_cron`). `stop()` flushes and shuts it all down again.

Unset, `start` returns None and nothing is imported, installed or wrapped: the helpers below
answer from one module global and the request path pays nothing. The SDK reads the other
standard variables itself (OTEL_TRACES_SAMPLER, OTEL_EXPORTER_OTLP_HEADERS, OTEL_BSP_*).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

if TYPE_CHECKING:
    from opentelemetry.context import Context as TraceContext
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import Sampler, SamplingResult
    from opentelemetry.trace import Link, Span, SpanKind, Tracer
    from opentelemetry.util.types import Attributes
    from starlette.middleware import Middleware

    from app.settings import Settings

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

# Spans never drawn: the health checks (polled every few seconds) and GraphiQL's assets
# (regular expressions searched in the URL without its query string).
EXCLUDED_URLS = "/health$,/livez$,/graphiql/"
# The longest attribute value kept (an SQL statement, a URL) unless the standard
# OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT says otherwise.
ATTRIBUTE_LENGTH = 8192
TRACEPARENT_LENGTH = 55  # version 00: "00-<32 hex>-<16 hex>-<2 hex>"
_LENGTH_VARIABLES = ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT")


class Instrumentor(Protocol):  # opentelemetry.instrumentation's BaseInstrumentor
    def instrument(self, **options: Any) -> None: ...
    def uninstrument(self, **options: Any) -> None: ...


@dataclass
class Tracing:
    provider: TracerProvider
    tracer: Tracer
    instrumentors: list[Instrumentor]


_active: Tracing | None = None


def enabled() -> bool:
    return _active is not None


def provider() -> TracerProvider | None:
    """The process's provider while tracing is on (handed to what would take the global one,
    which the API lets a process set only once)."""
    return None if _active is None else _active.provider


def start(settings: Settings) -> Tracing | None:
    """Tracing for this process if OTEL_EXPORTER_OTLP_ENDPOINT is set (idempotent: a second
    app or worker in the process shares the first one's); None, and no cost, if not."""
    global _active
    if settings.otel_exporter_otlp_endpoint is None:
        return None
    if _active is None:
        _active = _set_up(settings.otel_exporter_otlp_endpoint, settings.otel_service_name)
        log.info("tracing on: spans go to %s", settings.otel_exporter_otlp_endpoint)
    return _active


def stop() -> None:
    """Send what is pending, shut the provider down and take the instrumentations out again
    (a later `start` sets everything up anew)."""
    global _active
    tracing, _active = _active, None
    if tracing is None:
        return
    for instrumentor in tracing.instrumentors:
        instrumentor.uninstrument()
    tracing.provider.shutdown()  # flushes the batch processor, then closes the exporter


@contextmanager
def running(settings: Settings) -> Iterator[None]:
    """Tracing (if configured) for the block: a command's whole run (worker, run-job); stopped
    and flushed at its end unless it was on before."""
    owner = _active is None
    start(settings)
    try:
        yield
    finally:
        if owner:
            stop()


def _set_up(endpoint: str, service_name: str) -> Tracing:
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
    from opentelemetry.sdk.trace import SpanLimits, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({SERVICE_NAME: service_name, SERVICE_VERSION: _version()})
    limits = None
    if not any(os.environ.get(name) for name in _LENGTH_VARIABLES):
        limits = SpanLimits(max_span_attribute_length=ATTRIBUTE_LENGTH)
    # The process owns the provider's end (`stop`): no atexit handler of the SDK's.
    provider = TracerProvider(resource=resource, span_limits=limits, shutdown_on_exit=False)
    provider.sampler = _without_background_calls(provider.sampler)  # the configured one, wrapped
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=_traces_url(endpoint)))
    )
    # Set once per process (the API refuses a second); everything of ours is handed `provider`
    # itself, so a later start after a stop (tests) traces as well.
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(provider)
    instrumentors: list[Instrumentor] = [
        AsyncPGInstrumentor(capture_parameters=False),
        RedisInstrumentor(),
        AioHttpClientInstrumentor(),
    ]
    for instrumentor in instrumentors:
        options: dict[str, Any] = {"tracer_provider": provider}
        if isinstance(instrumentor, AioHttpClientInstrumentor):
            options["url_filter"] = _without_query  # Lexware searches carry names
        instrumentor.instrument(**options)
    return Tracing(provider, provider.get_tracer("insight-crm", _version()), instrumentors)


def _traces_url(endpoint: str) -> str | None:
    """The OTLP/HTTP traces URL: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is (the exporter reads
    it), else the endpoint with /v1/traces, as the specification builds it."""
    if os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return None
    return endpoint.rstrip("/") + "/v1/traces"


def _version() -> str:
    try:
        return version("insight-crm")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


def _without_query(url: Any) -> str:
    return str(url.with_query(None))


def _without_background_calls(configured: Sampler) -> Sampler:
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
    from opentelemetry.trace import SpanKind, get_current_span

    class BackgroundCallsDropped(Sampler):
        """A client call (SQL, Redis, HTTP) outside any request or job is not traced: the
        relay's and the hub's polls, the ARQ worker's queue reads would each be a root span,
        every second. The rest follows the sampler OTEL_TRACES_SAMPLER configures."""

        def should_sample(
            self,
            parent_context: TraceContext | None,
            trace_id: int,
            name: str,
            kind: SpanKind | None = None,
            attributes: Attributes = None,
            links: Sequence[Link] | None = None,
            trace_state: Any = None,
        ) -> SamplingResult:
            orphan = not get_current_span(parent_context).get_span_context().is_valid
            if orphan and kind is SpanKind.CLIENT:
                return SamplingResult(Decision.DROP)
            return configured.should_sample(
                parent_context, trace_id, name, kind, attributes, links, trace_state
            )

        def get_description(self) -> str:
            return f"BackgroundCallsDropped{{{configured.get_description()}}}"

    return BackgroundCallsDropped()


def asgi_middleware() -> list[Middleware]:
    """The request span's middleware, or none when tracing is off."""
    if _active is None:
        return []
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from starlette.middleware import Middleware

    options: dict[str, Any] = {
        "excluded_urls": EXCLUDED_URLS,
        "tracer_provider": _active.provider,
        # A span per ASGI message (each response chunk, each WebSocket frame) is noise.
        "exclude_spans": ["receive", "send"],
        "server_request_hook": _query_string_dropped,
    }
    return [Middleware(OpenTelemetryMiddleware, **options)]


def _query_string_dropped(span: Span, scope: dict[str, Any]) -> None:
    """A GET request's query string holds the document and its variables: kept out of the
    span (variables are never recorded), as in the access log."""
    if not scope.get("query_string") or not span.is_recording():
        return
    recorded = getattr(span, "attributes", None) or {}
    path = scope.get("path", "")
    for key in ("http.url", "url.full"):
        value = recorded.get(key)
        if isinstance(value, str):
            span.set_attribute(key, value.split("?", 1)[0])
    for key in ("http.target", "url.query"):
        if key in recorded:
            span.set_attribute(key, path if key == "http.target" else "")


def operation_span(
    document: str, operation_name: str | None, operation_type: str
) -> AbstractContextManager[object]:
    """The GraphQL operation's span where strawberry's extension does not run (the compiled
    fast path), named as the extension names it (the document's own name if the request
    gave none); a no-op when tracing is off."""
    if _active is None:
        return nullcontext()
    name = operation_span_name(operation_name or _first_operation_name(document))
    attributes = {"component": "graphql", "graphql.operation.type": operation_type}
    return _active.tracer.start_as_current_span(name, attributes=attributes)


def operation_span_name(operation_name: str | None) -> str:
    """As strawberry's extension names it, for every operation type."""
    return f"GraphQL Query: {operation_name}" if operation_name else "GraphQL Query"


def _first_operation_name(document: str) -> str | None:
    """`Companies` of `query Companies { ... }`: the first tokens, read by graphql-core's lexer
    (comments and all), without parsing the document again."""
    from graphql.error import GraphQLSyntaxError
    from graphql.language import Lexer, Source, TokenKind

    lexer = Lexer(Source(document))
    try:
        keyword = lexer.advance()
        name = lexer.advance()
    except GraphQLSyntaxError:
        return None
    if keyword.kind is TokenKind.NAME and name.kind is TokenKind.NAME:
        return name.value
    return None


def current_traceparent() -> str | None:
    """The W3C traceparent of the span being served (stored with the events it causes, so
    the jobs they queue join its trace); None when tracing is off or nothing is traced."""
    if _active is None:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get("traceparent")


def current_trace_id() -> str | None:
    """The id of the trace being served (32 hex digits, as collectors show it), for the access
    line: logs and traces meet on it. None when tracing is off."""
    if _active is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def sane_traceparent(value: object) -> str | None:
    """A traceparent read back from an event or a job (anyone may publish on crm.*): a short
    string or nothing; the propagator checks its format."""
    if isinstance(value, str) and len(value) == TRACEPARENT_LENGTH:
        return value
    return None


def _parent(traceparent: str | None) -> TraceContext | None:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    if traceparent is None:
        return None
    return TraceContextTextMapPropagator().extract({"traceparent": traceparent})


def traced_job(
    function: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """An ARQ job function that runs in a span `job <name>` under the trace of the request
    that queued it (its `traceparent` keyword argument), or a root span without one. The
    function itself as it is when tracing is off."""
    return _traced(function, f"job {function.__name__}", queued=True)


def traced_cron(
    function: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """A cron run (or `run-job`): a root span `cron <name>` of its own."""
    return _traced(function, f"cron {function.__name__}", queued=False)


def _traced(
    function: Callable[P, Coroutine[Any, Any, T]], name: str, *, queued: bool
) -> Callable[P, Coroutine[Any, Any, T]]:
    tracing = _active
    if tracing is None:
        return function
    from opentelemetry import context as otel_context
    from opentelemetry.trace import SpanKind

    kind = SpanKind.CONSUMER if queued else SpanKind.INTERNAL

    @functools.wraps(function)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        parent = _parent(sane_traceparent(kwargs.get("traceparent"))) if queued else None
        # A cron's span is a root even if the worker was started inside some span.
        parent = parent if parent is not None else otel_context.Context()
        with tracing.tracer.start_as_current_span(name, context=parent, kind=kind):
            return await function(*args, **kwargs)

    return run
