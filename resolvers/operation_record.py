"""The operation's name and type on the request's record (app/telemetry/record.py), once the
document has been validated: the access line names it, and a name of a valid document may
become a metrics label (app/telemetry/request_metrics.py). The compiled path's admitted
documents are noted where it answers them (resolvers/compiled/extension.py)."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from app.telemetry.describe import note_operation


class OperationRecord(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        yield
        context = self.execution_context
        try:
            operation_type: str | None = context.operation_type.value
        except Exception:  # no such operation in the document: validation has said so
            operation_type = None
        note_operation(
            context.operation_name, operation_type, validated=not context.pre_execution_errors
        )
