"""Which operations a GraphQL WebSocket connection may start, decided when each one arrives.

A connection holds at most `WS_MAX_SUBSCRIPTIONS` live subscriptions. The slot is taken while
the `subscribe`/`start` message is handled, before the operation's task exists: the message
loop handles one message at a time, so the check and the count cannot interleave, however
fast the messages come and whatever the document (shared or not). It is given back when the
operation ends: completed, failed, stopped by the client, or with the socket. Queries and
mutations take no slot; every operation in flight counts against a backstop a little above
the subscription limit, so a flood of them cannot pile up tasks either. A document may be as
large as an HTTP request's body (MAX_BODY_BYTES, in UTF-8 bytes), no larger: counted in
characters, a million characters outside the BMP were four megabytes, kept as such in the
caches keyed by query text.

Every operation admitted is then charged to its user's and tenant's rate-limit budgets
(app/web/rate_limit.py) before it starts: over budget, its `error` frame is coded
RATE_LIMITED (with retryAfter) and the socket stays open.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Protocol

from graphql import GraphQLError, OperationType, get_operation_ast, parse

from app.settings import Settings


@dataclass(frozen=True)
class OperationRequest:
    """The parts of a `subscribe` (or legacy `start`) payload, checked for their types."""

    query: str
    variables: dict[str, Any] | None
    operation_name: str | None

    @classmethod
    def of(cls, payload: object) -> OperationRequest | str:
        """The request, or what is wrong with the payload."""
        if not isinstance(payload, dict):
            return "The payload must be an object with the operation's query."
        query, variables = payload.get("query"), payload.get("variables")
        name = payload.get("operationName")
        if not isinstance(query, str) or not query.strip():
            return "The payload's query must be a GraphQL document (a string)."
        if variables is not None and not isinstance(variables, dict):
            return "The payload's variables must be an object."
        if name is not None and not isinstance(name, str):
            return "The payload's operationName must be a string."
        return cls(query, variables, name)


def operation_type(query: str, operation_name: str | None, max_tokens: int) -> OperationType | None:
    """The type of the document's chosen operation; None for a document that does not parse
    or names no operation (the schema reports it when the operation runs)."""
    try:
        return _operation_type(query, operation_name, max_tokens)
    except GraphQLError:
        return None


@functools.lru_cache(maxsize=256)
def _operation_type(query: str, name: str | None, max_tokens: int) -> OperationType | None:
    # A failed parse raises and is not cached: no junk document stays in memory.
    operation = get_operation_ast(parse(query, max_tokens=max_tokens), name)
    return None if operation is None else operation.operation


class OperationBudget(Protocol):
    """The rate limits of a signed-in connection: raise RATE_LIMITED over budget."""

    async def charge(self, request: OperationRequest) -> None: ...


class Slot:
    """One live subscription's place in its connection's count; released once."""

    def __init__(self, slots: SubscriptionSlots) -> None:
        self._slots: SubscriptionSlots | None = slots

    def release(self) -> None:
        if self._slots is not None:
            self._slots.taken -= 1
            self._slots = None


class Admission:
    """One connection's admission: its subscription slots and its in-flight backstop."""

    def __init__(
        self, settings: Settings, max_in_flight: int | None, budget: OperationBudget | None = None
    ) -> None:
        self.slots = SubscriptionSlots(settings.ws_max_subscriptions)
        self.max_in_flight = max_in_flight
        self.max_tokens = settings.max_tokens
        self.max_document = settings.max_body_bytes
        self.budget = budget

    async def admit_charged(self, request: OperationRequest, in_flight: int) -> Slot | None:
        """`admit`, then the rate-limit budget's charge (a refused operation's slot is free
        again); raises the coded GraphQLError of either."""
        slot = self.admit(request, in_flight)
        if self.budget is not None:
            try:
                await self.budget.charge(request)
            except GraphQLError:
                if slot is not None:
                    slot.release()
                raise
        return slot

    def admit(self, request: OperationRequest, in_flight: int) -> Slot | None:
        """The slot the operation holds (None for a query or mutation); raises a coded
        GraphQLError for a document larger than an HTTP body may be (RATE_LIMITED when the
        connection is full)."""
        if _utf8_size(request.query) > self.max_document:
            raise bad_request(f"The document is too large (at most {self.max_document} bytes).")
        if self.max_in_flight is not None and in_flight >= self.max_in_flight:
            raise rate_limited(
                f"Too many operations in flight on this connection (at most {self.max_in_flight})."
            )
        if self.type_of(request.query, request.operation_name) is not OperationType.SUBSCRIPTION:
            return None
        slot = self.slots.take()
        if slot is None:
            raise rate_limited(
                f"Too many subscriptions on this connection (at most {self.slots.limit})."
            )
        return slot

    def type_of(self, query: str, operation_name: str | None) -> OperationType | None:
        return operation_type(query, operation_name, self.max_tokens)


def _utf8_size(text: str) -> int:
    # surrogatepass: a lone surrogate (no JSON parser of ours lets one through) is counted,
    # not a reason to fail the connection.
    return len(text.encode("utf-8", "surrogatepass"))


class SubscriptionSlots:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.taken = 0

    def take(self) -> Slot | None:
        if self.taken >= self.limit:
            return None
        self.taken += 1
        return Slot(self)


def rate_limited(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "RATE_LIMITED"})


def bad_request(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})
