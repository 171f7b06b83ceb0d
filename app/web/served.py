"""Each /graphql request and WebSocket operation as the operator sees it: its request id (the
client's X-Request-ID when it is a plain token, else ours), echoed in the `X-Request-ID`
header and in every error's `extensions.requestId`, and its record (app/telemetry/record.py)
finished once it is answered: the access line and the request metrics.

HTTP: `http_served` wraps the whole answer, strawberry's view, the compiled path's
`_answer_admitted` and every refusal alike. WebSocket: the upgrade's id names the connection,
each operation is `<connection id>.<n>`, and `ws_operation` records it from its start to its
end (completed, error, cancelled by the client, or closed with the socket).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketState

from app.telemetry import logs as _logs  # noqa: F401  (registers the access line)
from app.telemetry import request_metrics as _request_metrics  # noqa: F401  (the metrics)
from app.telemetry import tracing
from app.telemetry.describe import codes_of, note_error_codes
from app.telemetry.record import RequestRecord, current, current_request_id, finish, serving
from app.telemetry.request_metrics import OPERATION_NAME
from resolvers.context import Context

REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
CLIENT_GONE = 499  # cancelled before it was answered (nginx's "client closed request")


def request_id_from(sent: str | None) -> str:
    """The client's correlation id if it is a plain token (it reaches our logs), else ours."""
    if sent and _SANE_REQUEST_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


@contextmanager
def http_served(request: Request) -> Iterator[RequestRecord]:
    """The request's record is current inside; finished however the answer ends."""
    record = RequestRecord(request_id_from(request.headers.get(REQUEST_ID_HEADER)), "http")
    record.trace_id = tracing.current_trace_id()  # the request's span is current (asgi)
    request.state.request_id = record.request_id
    try:
        with serving(record):
            yield record
    finally:
        if record.status is None:
            record.status = CLIENT_GONE
        finish(record)


def answered(record: RequestRecord, response: Response) -> None:
    """What the response tells the record, and the request id it carries back."""
    response.headers.append(REQUEST_ID_HEADER, record.request_id)
    record.status = response.status_code
    record.response_bytes = len(getattr(response, "body", b""))


def signed_in(context: Context) -> None:
    """Tenant and user of the current request, once its token is verified."""
    record = current()
    if record is not None:
        _caller_into(record, context)


def _caller_into(record: RequestRecord, context: Context) -> None:
    if context.signed_in:
        principal = context.principal
        record.tenant, record.user = principal.tenant_slug, str(principal.user_id)


# ---- WebSocket --------------------------------------------------------------------------


async def accept_websocket(websocket: WebSocket, subprotocol: str | None) -> None:
    """Accept the upgrade; its response names the connection's request id."""
    request_id = getattr(websocket.state, "request_id", None)
    headers = [(REQUEST_ID_HEADER.encode(), request_id.encode())] if request_id else None
    await websocket.accept(subprotocol=subprotocol, headers=headers)


class OperationIds:
    """The ids of a connection's operations: `<connection id>.<n>`."""

    def __init__(self, connection_id: str) -> None:
        self.connection_id = connection_id
        self._numbers = itertools.count(1)

    def next(self) -> str:
        return f"{self.connection_id}.{next(self._numbers)}"


@contextmanager
def ws_operation(context: Context, ids: OperationIds, name: str | None) -> Iterator[RequestRecord]:
    """One WebSocket operation, current inside (its task's context): finished at its end.
    Its type is known once its document is validated (resolvers/operation_record.py)."""
    record = _ws_record(context, ids, name)
    try:
        with serving(record):
            yield record
    except BaseException:
        record.status = _ended(context.request) or "error"
        raise
    else:
        record.status = _ended(context.request) or ("error" if record.error_codes else "completed")
    finally:
        finish(record)


def _ended(websocket: Any) -> str | None:
    """closed (the socket went) or cancelled (the client stopped it), if it did not end itself.
    Strawberry's handlers catch the cancellation of some tasks: `cancelling` still tells."""
    task = asyncio.current_task()
    if task is None or not task.cancelling():
        return None
    states = (websocket.client_state, websocket.application_state)
    return "closed" if WebSocketState.DISCONNECTED in states else "cancelled"


@contextmanager
def refused_operation(context: Context, ids: OperationIds, name: object) -> Iterator[None]:
    """An operation refused as it arrived (no task of its own): its error frame is sent
    inside, then its record is finished."""
    record = _ws_record(context, ids, name)
    record.status = "refused"
    try:
        with serving(record):
            yield
    finally:
        finish(record)


def _ws_record(context: Context, ids: OperationIds, name: object) -> RequestRecord:
    record = RequestRecord(ids.next(), "ws")
    record.trace_id = tracing.current_trace_id()  # the socket's trace: its operations' too
    if isinstance(name, str) and OPERATION_NAME.fullmatch(name):
        record.operation_name = name
    _caller_into(record, context)
    return record


def with_request_ids(message: Mapping[str, Any], websocket: WebSocket) -> Mapping[str, Any]:
    """`message`, each of its errors with the operation's requestId (copies: a subscription's
    result may be shared by many sockets); their codes noted on the record."""
    errors, rebuild = _errors_of(message)
    if not errors:
        return message
    request_id = current_request_id() or getattr(websocket.state, "request_id", None)
    note_error_codes(codes_of(errors))
    identified = [_identified(error, request_id) for error in errors]
    rebuilt: Mapping[str, Any] = rebuild(identified)
    return rebuilt


def _identified(error: Any, request_id: str | None) -> Any:
    if not isinstance(error, Mapping) or request_id is None:
        return error
    extensions = error.get("extensions")
    extensions = dict(extensions) if isinstance(extensions, Mapping) else {}
    extensions["requestId"] = request_id
    return {**error, "extensions": extensions}


def _errors_of(message: Mapping[str, Any]) -> tuple[list[Any], Any]:
    """The errors a frame carries and how to build it again with others."""
    kind, payload = message.get("type"), message.get("payload")
    if kind in ("error", "connection_error"):
        if isinstance(payload, list):
            return payload, lambda errors: {**message, "payload": errors}
        if isinstance(payload, Mapping):
            return [payload], lambda errors: {**message, "payload": errors[0]}
    if kind in ("next", "data") and isinstance(payload, Mapping):
        errors = payload.get("errors")
        if isinstance(errors, list):
            return errors, lambda found: {**message, "payload": {**payload, "errors": found}}
    return [], None
