"""The GraphQL operation's span: strawberry's OpenTelemetry extension, installed only while
tracing is on (resolvers/schema.py asks app/telemetry/tracing.py), so this module and the SDK
are never imported otherwise.

Three changes to strawberry's: the operation span is the current span while the operation
runs, so each SQL statement, Redis call and Lexware request is its child (strawberry starts
it without making it current: they would hang off the HTTP span); it does not record the
document (a document may carry values inline, and traces hold no more than the logs: the
operation name, its type, whether it failed); and no span per resolver (strawberry's
`resolve` hook makes every field with a resolver an awaited call with a span of its own: a
page of 50 companies with their lists is 220 spans instead of 21). Parsing and validation
keep strawberry's spans. The compiled fast path, which runs no extension, draws the same
operation span itself (app/web/graphql_http.py, app/telemetry/tracing.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator

from opentelemetry import context, trace
from opentelemetry.trace import Status, StatusCode
from strawberry.extensions import LifecycleStep, SchemaExtension
from strawberry.extensions.tracing import OpenTelemetryExtension
from strawberry.types.execution import ExecutionContext

from app.telemetry.tracing import operation_span_name, provider


class OperationSpans(OpenTelemetryExtension):
    resolve = SchemaExtension.resolve  # type: ignore[assignment]  # no per-field middleware

    def __init__(self, *, execution_context: ExecutionContext | None = None) -> None:
        super().__init__(execution_context=execution_context, tracer_provider=provider())

    def on_operation(self) -> Generator[None, None, None]:
        execution = self.execution_context
        sent_name = execution.operation_name  # the request's, or the document's only one
        span = self._tracer.start_span(
            operation_span_name(sent_name), attributes={"component": "graphql"}
        )
        self._span_holder[LifecycleStep.OPERATION] = span  # parsing and validation use it
        token = context.attach(trace.set_span_in_context(span))
        try:
            yield
        finally:
            context.detach(token)
            self._describe(span, sent_name)
            span.end()

    def _describe(self, span: trace.Span, sent_name: str | None) -> None:
        execution = self.execution_context
        if not sent_name and execution.operation_name:  # known once the document is parsed
            span.update_name(operation_span_name(execution.operation_name))
        with contextlib.suppress(Exception):  # no document: it did not parse
            span.set_attribute("graphql.operation.type", execution.operation_type.value)
        result = execution.result
        errors = getattr(result, "errors", None) or execution.pre_execution_errors
        if errors:
            span.set_attribute("graphql.errors", len(errors))
            span.set_status(Status(StatusCode.ERROR))
