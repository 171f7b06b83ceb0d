"""What the layers serving a request tell its record (app/telemetry/record.py): the operation
once the document is known, its cost, the codes of the errors answered, the frames sent. Each
is a no-op outside a request."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from app.telemetry.record import current
from app.telemetry.request_metrics import OPERATION_NAME, allow_operation


def note_operation(name: str | None, operation_type: str | None, *, validated: bool) -> None:
    """The operation's name and type; a validated document's name may become a label."""
    record = current()
    if record is None:
        return
    if name is None or OPERATION_NAME.fullmatch(name):  # a client's odd name is not kept
        record.operation_name = name
    if operation_type is not None:
        record.operation_type = operation_type
    if validated:
        allow_operation(name)


def note_cost(cost: int | None) -> None:
    record = current()
    if record is not None and cost is not None:
        record.cost = cost


def note_error_codes(codes: Iterable[str]) -> None:
    """The codes of the errors of the answer (an HTTP response is answered once: these are
    its errors; a WebSocket operation adds each frame's)."""
    record = current()
    if record is not None:
        if record.transport == "http":
            record.error_codes = list(codes)
        else:
            record.error_codes.extend(codes)


def codes_of(errors: Iterable[object]) -> list[str]:
    """extensions.code of formatted errors (INTERNAL_SERVER_ERROR where one has none)."""
    found = []
    for error in errors:
        extensions = error.get("extensions") if isinstance(error, Mapping) else None
        code = extensions.get("code") if isinstance(extensions, Mapping) else None
        found.append(code if isinstance(code, str) else "INTERNAL_SERVER_ERROR")
    return found


def note_frame(size: int) -> None:
    """A WebSocket frame of `size` bytes sent for the current operation."""
    record = current()
    if record is not None:
        record.response_bytes += size
        if record.first_answer_seconds is None:
            record.first_answer_seconds = time.perf_counter() - record.started
