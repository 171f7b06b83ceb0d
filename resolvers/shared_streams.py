"""Shared subscriptions: each distinct (document, variables, tenant) is evaluated once per
event, however many sockets subscribed to it.

The first subscriber starts the stream under a context of its own (so it outlives that
socket); later ones attach to it. Every subscriber still passes its own checks first (signed
in, the field's read permission; its connection admitted it under its subscription limit
before the operation started: app/web/ws_admission.py); when one does not, or
the operation is not one that may be shared, it runs unshared, and the normal path reports
the error. Each subscriber reads from a bounded queue: one that falls that far behind ends
with RATE_LIMITED instead of holding the others up.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import orjson
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse
from strawberry.types import ExecutionResult

from resolvers.context import Context

log = logging.getLogger(__name__)
# Subscription fields whose results depend only on (document, variables, tenant) and that
# start "now" for every subscriber: no per-caller replay point, no per-user fields.
SHAREABLE_FIELDS = frozenset({"dealChanged"})
_END = object()

StartStream = Callable[[Context], Awaitable[Any]]


@functools.lru_cache(maxsize=256)
def shareable(query: str, operation_name: str | None) -> bool:
    try:
        document = parse(query)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or len(document.definitions) != 1:
        return False
    [operation] = operations
    if operation.operation is not OperationType.SUBSCRIPTION:
        return False
    if operation_name is not None and (
        operation.name is None or operation.name.value != operation_name
    ):
        return False
    return all(
        isinstance(f, FieldNode) and f.name.value in SHAREABLE_FIELDS and not f.directives
        for f in operation.selection_set.selections
    )


class _Shared:
    """One running stream and the queues of its subscribers."""

    def __init__(self, key: tuple[Any, ...], buffer: int, ended: Callable[[_Shared], None]) -> None:
        self.key = key
        self.buffer = buffer
        self.queues: set[asyncio.Queue[Any]] = set()
        self.ended = ended
        self.task: asyncio.Task[None] | None = None

    def on_empty(self) -> None:
        self.ended(self)

    def start(self, begin: StartStream, owner: Context) -> None:
        self.task = asyncio.create_task(self._pump(begin, owner))

    async def _pump(self, begin: StartStream, owner: Context) -> None:
        try:
            source = await begin(owner)
            async with contextlib.aclosing(source):
                async for result in source:
                    self._deliver(result)
        except Exception:  # the stream's own errors arrived as results; this is a bug
            log.exception("shared subscription failed")
        finally:
            self.on_empty()
            for queue in list(self.queues):
                self._put(queue, _END)

    def _deliver(self, result: Any) -> None:
        for queue in list(self.queues):
            if queue.qsize() >= self.buffer - 1:
                self.queues.discard(queue)
                queue.put_nowait(_fell_behind(self.buffer))
                queue.put_nowait(_END)
            else:
                queue.put_nowait(result)

    def _put(self, queue: asyncio.Queue[Any], item: Any) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(item)

    def leave(self, queue: asyncio.Queue[Any]) -> None:
        self.queues.discard(queue)
        if not self.queues and self.task is not None:
            self.on_empty()  # nobody may join a stream that is being cancelled
            self.task.cancel()


def _fell_behind(buffer: int) -> ExecutionResult:
    error = GraphQLError(
        f"This subscription fell more than {buffer} results behind; subscribe again.",
        extensions={"code": "RATE_LIMITED"},
    )
    return ExecutionResult(data=None, errors=[error])


class SharedStreams:
    def __init__(self) -> None:
        self._running: dict[tuple[Any, ...], _Shared] = {}

    def key(
        self, context: Context, query: str, variables: dict[str, Any] | None, name: str | None
    ) -> tuple[Any, ...]:
        values = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
        return (context.scope.tenant_id, query, name, values)

    def may_join(self, context: Context) -> bool:
        """The checks every subscriber passes itself (the shared stream checked its starter's)."""
        return context.signed_in and context.principal.can_read

    async def join(
        self, key: tuple[Any, ...], context: Context, begin: StartStream
    ) -> AsyncGenerator[Any, None]:
        shared = self._running.get(key)
        if shared is None:
            shared = _Shared(key, context.settings.subscription_buffer, self._ended)
            self._running[key] = shared
            shared.start(begin, _owner_context(context))
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=shared.buffer + 1)
        shared.queues.add(queue)
        try:
            while (item := await queue.get()) is not _END:
                yield item
        finally:
            shared.leave(queue)

    def _ended(self, shared: _Shared) -> None:
        if self._running.get(shared.key) is shared:
            del self._running[shared.key]


def _owner_context(subscriber: Context) -> Context:
    """A context of the stream's own: it must not end with the socket that started it."""
    owner = Context(
        request=subscriber.request,
        response=None,
        settings=subscriber.settings,
        authenticator=subscriber.authenticator,
        hub=subscriber.hub,
        lexware=subscriber.lexware,
        request_id=f"shared-{uuid.uuid4().hex[:12]}",
    )
    owner.sign_in(subscriber.principal, subscriber.scope)
    return owner
