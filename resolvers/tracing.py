"""The GraphQL operation's span: strawberry's OpenTelemetry extension, installed only while
tracing is on (resolvers/schema.py asks app/telemetry/tracing.py), so this module and the SDK
are never imported otherwise.

Two changes to strawberry's: the operation span is made the current span while the operation
runs, so each SQL statement, Redis call and Lexware request is its child (strawberry's starts
it without making it current: they would hang off the HTTP span); and no span per resolver
(strawberry's `resolve` hook makes every field an awaited call with a span of its own: on a
page of 200 companies with their lists that is thousands of spans, and several times the
request's time). Parsing and validation keep their spans. The compiled fast path, which runs
no extension, draws the same operation span itself (app/web/graphql_http.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator

from opentelemetry import context, trace
from strawberry.extensions import LifecycleStep, SchemaExtension
from strawberry.extensions.tracing import OpenTelemetryExtension


class OperationSpans(OpenTelemetryExtension):
    resolve = SchemaExtension.resolve  # type: ignore[assignment]  # no per-field middleware (`_implements_resolve` is False)

    def on_operation(self) -> Generator[None, None, None]:
        operation = super().on_operation()
        next(operation)  # strawberry's operation span has started
        span = self._span_holder[LifecycleStep.OPERATION]
        token = context.attach(trace.set_span_in_context(span))
        try:
            yield
        finally:
            context.detach(token)
            if span.is_recording():
                with contextlib.suppress(Exception):  # no document: it did not parse
                    operation_type = self.execution_context.operation_type
                    span.set_attribute("graphql.operation.type", operation_type.value)
            with contextlib.suppress(StopIteration):
                next(operation)  # renames an anonymous operation, ends the span
