"""The request metrics (a finisher of app/telemetry/record.py), and the allowlist that keeps
their `operation` label bounded.

A label value is an operation name only when it is a plain GraphQL name of at most 64
characters and among the first `ALLOWLIST_SIZE` names of documents this process has seen
parse and validate (`allow_operation`): a client inventing a name per request adds nothing
after that. Anything else is `other` (so is a request refused before its document was read);
an operation without a name is `anonymous`.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from prometheus_client.metrics import MetricWrapperBase

from app.telemetry import metrics
from app.telemetry import record as records
from app.telemetry.record import RequestRecord

ALLOWLIST_SIZE = 200
OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_ERROR_CODE = re.compile(r"[A-Z][A-Z_]{0,39}")  # ours all are; anything else is one label
_allowed: set[str] = set()


def allow_operation(name: str | None) -> None:
    """`name` belongs to a document that parsed and validated: a label, while there is room."""
    if name is None or name in _allowed or len(_allowed) >= ALLOWLIST_SIZE:
        return
    if OPERATION_NAME.fullmatch(name):
        _allowed.add(name)


def operation_label(name: str | None) -> str:
    if name is None:
        return "anonymous"
    return name if name in _allowed else "other"


def _outcome(record: RequestRecord) -> str:
    """ok, error (answered with errors), or how a WebSocket operation ended otherwise:
    cancelled (by the client), closed (with its socket), refused (as it arrived)."""
    status = record.status
    if isinstance(status, str):
        return "ok" if status == "completed" else status
    if status is None or status >= 400 or record.error_codes:
        return "error"
    return "ok"


@functools.lru_cache(maxsize=4096)  # the labels are bounded: each series is looked up once
def _series(metric: MetricWrapperBase, *labels: str) -> Any:
    return metric.labels(*labels)


def count_request(record: RequestRecord) -> None:
    """The request's counters and histograms (a finisher)."""
    transport = record.transport
    kind = record.operation_type or "unknown"
    # Refused before its document was read: no operation to name.
    operation = operation_label(record.operation_name) if record.operation_type else "other"
    _series(metrics.REQUESTS, transport, kind, operation, _outcome(record)).inc()
    seconds = record.first_answer_seconds
    if seconds is None:
        seconds = record.elapsed_seconds()
    _series(metrics.REQUEST_DURATION, transport, kind, operation).observe(seconds)
    _series(metrics.STATEMENTS_PER_REQUEST, transport, kind).observe(record.statements)
    _series(metrics.RESPONSE_BYTES, transport, kind).observe(record.response_bytes)
    for code in record.error_codes:
        _series(metrics.ERRORS, code if _ERROR_CODE.fullmatch(code) else "OTHER").inc()


records.FINISHERS.append(count_request)
