"""Strawberry's two GraphQL WebSocket protocol handlers, with what this server adds:

- operations are admitted when their message arrives (app/web/ws_admission.py): the 21st live
  subscription is refused with RATE_LIMITED at once, and a finished one frees its slot; each
  is charged to its user's and tenant's rate-limit budgets (RATE_LIMITED over budget);
- every error frame carries `extensions.code` (strawberry's own limit answered without one);
- each mutation looks its token up on the blocklist as it starts (app/web/graphql_ws.py);
- the legacy `graphql-ws` protocol closes a socket that sends no `connection_init` within
  `WS_INIT_TIMEOUT_SECONDS` (4408, as graphql-transport-ws does; strawberry times out only
  that one), runs queries and mutations as graphql-transport-ws does (strawberry's legacy
  handler runs subscriptions only, and answered anything else with a masked error), and
  answers malformed messages with a coded error instead of failing the connection's task;
- a malformed message never fails the connection: whatever type its fields have, it closes
  the socket with 4400 (graphql-transport-ws) or gets a coded error (graphql-ws, where a
  message that is not JSON is one too, instead of being dropped without a word); a close
  reason built from what the client sent (an unknown type, an id, a syntax error) is cut to
  the 123 bytes a close frame holds (a longer one raised while closing; app/web/ws_adapter.py,
  the socket both handlers read and write).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, cast

from graphql import GraphQLError, OperationType
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    CompleteMessage,
    Message,
    SubscribeMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage,
    OperationMessage,
    StartMessage,
)
from strawberry.types.execution import PreExecutionError

from app.web.graphql_ws import (
    UNAUTHORIZED,
    InitNotDecided,
    WebSocketAuth,
    with_extensions,
)
from app.web.persisted_documents import PersistedDocuments
from app.web.served import OperationIds, refused_operation, ws_operation
from app.web.ws_adapter import NotJson
from app.web.ws_admission import Admission, OperationRequest, Slot, bad_request
from resolvers.context import Context

INIT_TIMEOUT = 4408
_LEGACY_TYPES = frozenset({"connection_init", "connection_terminate", "start", "stop"})


def _admission(handler: Any) -> Admission:
    context: Context = handler.context
    budget = handler.view.rate_limits.budget_of(context)
    return Admission(context.settings, handler.max_subscriptions_per_connection, budget)


async def _refused(handler: Any, operation_id: str, query: str, name: str | None) -> bool:
    """Whether the socket's token refuses a mutation (its error frame sent by then). Only
    writes look the token up as they start, as HTTP does with every request: reads, like
    the subscriptions' stream, go on until the watcher's next look (app/web/graphql_ws.py), so
    a burst of them costs no blocklist look-ups."""
    admission: Admission = handler.admission
    if admission.type_of(query, name) is not OperationType.MUTATION:
        return False
    auth = cast(WebSocketAuth, handler.view)
    refusal = await auth.operation_refusal(handler.context)
    if refusal is None:
        return False
    await handler.send_error(operation_id, refusal.error)
    if refusal.closes:
        await handler.websocket.close(UNAUTHORIZED, refusal.error.message)
    return True


async def _persisted_payload(handler: Any, payload: object) -> object:
    """The payload with its persisted document's text in place of its hash, the payload itself
    when it names none, or the coded refusal (app/web/persisted_documents.py)."""
    persisted: PersistedDocuments = handler.view.persisted
    try:
        return await persisted.ws_payload(payload)
    except GraphQLError as refused:
        return refused


def _operation_name(payload: object) -> str | None:
    name = payload.get("operationName") if isinstance(payload, dict) else None
    return name if isinstance(name, str) else None


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.admission = _admission(self)
        self.slots_held: dict[str, Slot] = {}
        self.operation_ids = OperationIds(self.context.request_id)

    async def handle_message(self, message: Message) -> None:
        if not isinstance(cast(object, message), dict):  # strawberry failed the connection
            await self.handle_invalid_message("Failed to parse message")
            return
        await super().handle_message(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        operation_id = message.get("id")
        if not self.connection_acknowledged:
            await super().handle_subscribe(message)  # closes 4401
            return
        if not isinstance(operation_id, str):
            await self.handle_invalid_message("A subscribe message needs an id (a string).")
            return
        if operation_id in self.operations:
            await super().handle_subscribe(message)  # closes 4409
            return
        payload = await _persisted_payload(self, message.get("payload"))
        if isinstance(payload, GraphQLError):  # a refused persisted document
            await self._refuse(operation_id, message.get("payload"), payload)
            return
        message = cast(SubscribeMessage, {**message, "payload": payload})
        request = OperationRequest.of(payload)
        if isinstance(request, str):  # malformed: the protocol closes with 4400
            await self.handle_invalid_message(request)
            return
        try:
            slot = await self.admission.admit_charged(request, len(self.operations))
        except GraphQLError as refused:
            await self._refuse(operation_id, payload, refused)
            return
        await super().handle_subscribe(message)
        if slot is not None:
            self._hold(operation_id, slot)

    async def _refuse(self, operation_id: str, payload: object, refused: GraphQLError) -> None:
        """The operation's error frame: it does not start, the socket stays open."""
        with refused_operation(self.context, self.operation_ids, _operation_name(payload)):
            frame = {"id": operation_id, "type": "error", "payload": [refused.formatted]}
            await self.send_message(cast(Message, frame))

    async def handle_connection_init(self, message: Any) -> None:
        try:
            await super().handle_connection_init(message)
        except InitNotDecided as undecided:  # an outage is no 4403 "Forbidden"
            await self.websocket.close(undecided.close_code, undecided.reason)

    async def handle_complete(self, message: CompleteMessage) -> None:
        if not isinstance(message.get("id"), str):
            await self.handle_invalid_message("A complete message needs an id (a string).")
            return
        await super().handle_complete(message)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        name = operation.operation_name
        with ws_operation(self.context, self.operation_ids, name):  # its access line
            if not await _refused(self, operation.id, operation.query, name):
                await super().run_operation(operation)

    async def send_error(self, operation_id: str, error: GraphQLError) -> None:
        operation = self.operations.get(operation_id)
        if operation is not None:  # it ends with this frame (and frees its slot)
            await operation.send_initial_errors([error])

    def _hold(self, operation_id: str, slot: Slot) -> None:
        self.slots_held[operation_id] = slot
        task = self.operations[operation_id].task
        assert task is not None
        # However the task ends, also where strawberry drops the operation without
        # forget_id (a failed task, a document that closes the socket).
        task.add_done_callback(lambda _: self._release(operation_id, slot))

    def forget_id(self, id: str) -> None:  # the operation is sending its complete or error
        super().forget_id(id)
        self._release(id)

    async def cleanup_operation(self, operation_id: str) -> None:  # stopped, or socket closed
        self._release(operation_id)
        await super().cleanup_operation(operation_id)

    def _release(self, operation_id: str, slot: Slot | None = None) -> None:
        """Give back the operation's slot (only `slot`, if named: its id may be reused)."""
        held = self.slots_held.get(operation_id)
        if held is not None and slot in (None, held):
            del self.slots_held[operation_id]
            held.release()
        if slot is not None:
            slot.release()


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """graphql-ws (subscriptions-transport-ws), the default of Python's gql client."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.admission = _admission(self)
        self.slots_held: dict[str, Slot] = {}
        self.init_timer: asyncio.Task[None] | None = None
        self.operation_ids = OperationIds(self.context.request_id)

    async def handle(self) -> None:
        self.init_timer = asyncio.create_task(self._close_without_init())
        try:
            await super().handle()
        finally:
            self.init_timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.init_timer

    async def _close_without_init(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        with contextlib.suppress(RuntimeError, OSError):  # the client has gone meanwhile
            await self.websocket.close(INIT_TIMEOUT, "Connection initialisation timeout")

    async def handle_message(self, message: OperationMessage) -> None:
        sent = cast(object, message)
        fields: dict[str, object] = sent if isinstance(sent, dict) else {}
        kind = fields.get("type")
        if isinstance(sent, NotJson):
            await self._refuse(sent, "A message must be JSON.")
        elif not isinstance(kind, str) or kind not in _LEGACY_TYPES:
            await self._refuse(
                sent,
                "Unknown message: send connection_init, start, stop or connection_terminate.",
            )
        elif kind in ("start", "stop") and not isinstance(fields.get("id"), str):
            await self._refuse(sent, "A start or stop message needs an id (a string).")
        else:
            await super().handle_message(message)

    async def _refuse(self, sent: object, message: str) -> None:
        operation_id = sent.get("id") if isinstance(sent, dict) else None
        await self.send_error(operation_id, bad_request(message))

    async def send_error(self, operation_id: object, error: GraphQLError) -> None:
        frame: dict[str, object] = {"type": "error", "payload": error.formatted}
        if isinstance(operation_id, str):
            frame["id"] = operation_id
        await self.send_message(cast(OperationMessage, frame))

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self.init_timer is not None:
            self.init_timer.cancel()
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            refusal = with_extensions(
                {
                    "message": "The connection_init payload must be an object.",
                    "code": "BAD_USER_INPUT",
                }
            )
            await self.send_message(
                cast(OperationMessage, {"type": "connection_error", "payload": refusal})
            )
            await self.websocket.close(code=1000, reason="")
            return
        try:
            await super().handle_connection_init(message)
        except InitNotDecided as undecided:
            frame = {"type": "connection_error", "payload": undecided.payload}
            await self.send_message(cast(OperationMessage, frame))
            await self.websocket.close(undecided.close_code, undecided.reason)

    async def handle_start(self, message: StartMessage) -> None:
        if not self.connection_acknowledged:
            await self.websocket.close(code=4401, reason="Unauthorized")
            return
        operation_id = message["id"]
        if operation_id in self.tasks:  # a reused id replaces its operation
            await self.cleanup_operation(operation_id)
        payload = await _persisted_payload(self, message.get("payload"))
        if isinstance(payload, GraphQLError):  # a refused persisted document
            name = _operation_name(message.get("payload"))
            with refused_operation(self.context, self.operation_ids, name):
                await self.send_error(operation_id, payload)
            return
        request = OperationRequest.of(payload)
        if isinstance(request, str):
            with refused_operation(self.context, self.operation_ids, None):
                await self.send_error(operation_id, bad_request(request))
            return
        try:
            slot = await self.admission.admit_charged(request, len(self.tasks))
        except GraphQLError as refused:
            with refused_operation(self.context, self.operation_ids, request.operation_name):
                await self.send_error(operation_id, refused)
            return
        if slot is not None:
            self.slots_held[operation_id] = slot
        self.tasks[operation_id] = asyncio.create_task(self._run(operation_id, request))

    async def cleanup_operation(self, operation_id: str) -> None:  # stopped, or socket closed
        self._release(operation_id)
        await super().cleanup_operation(operation_id)

    def _release(self, operation_id: str) -> None:
        slot = self.slots_held.pop(operation_id, None)
        if slot is not None:
            slot.release()

    async def _run(self, operation_id: str, request: OperationRequest) -> None:
        with ws_operation(self.context, self.operation_ids, request.operation_name):
            await self._run_recorded(operation_id, request)

    async def _run_recorded(self, operation_id: str, request: OperationRequest) -> None:
        """As strawberry's handle_async_results, but any operation type: `stream` runs a
        query or mutation as one `data` message, then `complete`."""
        try:
            if await _refused(self, operation_id, request.query, request.operation_name):
                return
            source = await self.schema.stream(
                request.query,
                variable_values=request.variables,
                context_value=self.context,
                root_value=self.root_value,
                operation_name=request.operation_name,
            )
            self.subscriptions[operation_id] = source
            first = True
            async for result in source:
                if first and isinstance(result, PreExecutionError):
                    assert result.errors
                    await self.send_error(operation_id, result.errors[0])
                    return
                first = False
                await self.send_data_message(result, operation_id)  # type: ignore[arg-type]
            await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:
            await self.send_message({"type": "complete", "id": operation_id})
        finally:
            # A stopped operation was released before it was cancelled (cleanup_operation);
            # one that ends by itself releases here. Either way, before the next message.
            self._release(operation_id)
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)
