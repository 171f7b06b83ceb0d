"""The request being served, as the access line, the metrics and the traces describe it.

One `RequestRecord` per HTTP request and per WebSocket operation, held in a context variable
while it is served: whatever runs for it (a resolver, a SQL statement, a job enqueued, an
event written) finds it with `current()` and adds what it knows. `request_id` is the one field
that also lives outside a request (a job, an event relayed): `current_request_id()`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Literal

Transport = Literal["http", "ws"]


@dataclass
class RequestRecord:
    request_id: str
    transport: Transport
    started: float = field(default_factory=time.perf_counter)
    tenant: str | None = None  # the token's tenant slug, once signed in
    user: str | None = None  # the user's id, once signed in
    operation_name: str | None = None  # as the client named it (bounded before it is a label)
    operation_type: str | None = None  # query, mutation, subscription
    status: int | str | None = None  # HTTP status, or how a WebSocket operation ended
    error_codes: list[str] = field(default_factory=list)  # extensions.code of each error
    statements: int = 0  # SQL statements sent for it (ORM and compiled path alike)
    response_bytes: int = 0
    cost: int | None = None  # resolvers/query_cost.py, when the operation was costed
    trace_id: str | None = None  # with tracing on: the trace that holds its spans
    first_answer_seconds: float | None = None  # a WebSocket operation's first frame, if sent

    def elapsed_seconds(self) -> float:
        return time.perf_counter() - self.started


_record: ContextVar[RequestRecord | None] = ContextVar("crm_request_record", default=None)
_request_id: ContextVar[str | None] = ContextVar("crm_request_id", default=None)


def current() -> RequestRecord | None:
    return _record.get()


def current_request_id() -> str | None:
    """The id of the request (or the job, or the relayed event) being served, if any."""
    return _request_id.get()


@contextmanager
def serving(record: RequestRecord) -> Iterator[RequestRecord]:
    """`record` is the current request (and its id the current request id) inside."""
    record_token = _record.set(record)
    id_token = _request_id.set(record.request_id)
    try:
        yield record
    finally:
        _request_id.reset(id_token)
        _record.reset(record_token)


@contextmanager
def request_id_set(request_id: str | None) -> Iterator[None]:
    """The current request id inside (a job or an event carrying one of a request)."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


def count_statement() -> None:
    """One SQL statement sent for the current request (called by the data layer)."""
    record = _record.get()
    if record is not None:
        record.statements += 1


# What happens when a request has been served: the access line (app/telemetry/logs.py), the
# request metrics (app/telemetry/metrics.py). Registered once at import; called in order.
FINISHERS: list[Callable[[RequestRecord], None]] = []


def finish(record: RequestRecord) -> None:
    """The request has been answered: every finisher sees its record once."""
    for finisher in FINISHERS:
        finisher(record)
