"""A real OTLP/HTTP receiver on 127.0.0.1 for the trace tests: `POST /v1/traces` with an
ExportTraceServiceRequest (protobuf, as opentelemetry-exporter-otlp-proto-http sends it),
decoded with opentelemetry-proto into plain `Received` spans."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


@dataclass(frozen=True)
class Received:
    """One span as the receiver decoded it (ids in hex, as in a traceparent)."""

    trace_id: str
    span_id: str
    parent_id: str
    name: str
    kind: int
    scope: str
    service: str
    attributes: dict[str, Any]
    failed: bool  # status ERROR


@dataclass
class OtlpReceiver:
    """POST /v1/traces of the OTLP/HTTP protocol (protobuf), collecting the spans."""

    spans: list[Received] = field(default_factory=list)
    content_types: set[str] = field(default_factory=set)

    async def traces(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.content_types.add(request.content_type)
        export = ExportTraceServiceRequest.FromString(body)
        for resource_spans in export.resource_spans:
            resource = _attributes(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(
                        Received(
                            span.trace_id.hex(),
                            span.span_id.hex(),
                            span.parent_span_id.hex(),
                            span.name,
                            span.kind,
                            scope_spans.scope.name,
                            str(resource.get("service.name")),
                            _attributes(span.attributes),
                            span.status.code == span.status.STATUS_CODE_ERROR,
                        )
                    )
        answer = ExportTraceServiceResponse().SerializeToString()
        return web.Response(body=answer, content_type="application/x-protobuf")

    def of_trace(self, trace_id: str) -> list[Received]:
        return [span for span in self.spans if span.trace_id == trace_id]


def _attributes(pairs: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        kind = pair.value.WhichOneof("value")
        values[pair.key] = getattr(pair.value, kind) if kind else None
    return values


@asynccontextmanager
async def otlp_receiver() -> AsyncIterator[tuple[str, OtlpReceiver]]:
    receiver = OtlpReceiver()
    app = web.Application()
    app.router.add_post("/v1/traces", receiver.traces)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", receiver
    finally:
        await runner.cleanup()
