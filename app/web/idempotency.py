"""`Idempotency-Key` on mutation requests over HTTP: claim the key, run, store the response.

Both HTTP paths pass here (CrmGraphQL._dispatch wraps strawberry's view and the compiled
path's `_answer_admitted` alike); the rules and the table are in app/services/idempotency.
A request without the header, a GET, and a query or anything that is not a mutation go
through untouched (and pay nothing). WebSocket operations do not carry HTTP headers per
operation: the header does not apply to them.

What a repeat gets (the draft's semantics):
- the first one complete: its stored response again, status and body, `Idempotent-Replayed: true`;
- the first one still running (its lease alive): 409 CONFLICT, retry later;
- the first one committed but its response lost (the server died in between): 409 CONFLICT
  saying it was applied; never a second run;
- another document or variables under the same key: 422 BAD_USER_INPUT;
- the first one failed before committing anything: its key was released, the repeat runs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.requests import Request
from starlette.responses import Response

from app.data.unit_of_work import UnitOfWork
from app.errors import AppError, BadUserInput
from app.services.idempotency import service
from app.services.idempotency.rules import HEADER, fingerprint, parse_key
from app.settings import Settings
from app.telemetry.metrics import IDEMPOTENT_REPLAYS
from app.web.http import json_response
from resolvers.context import Context

log = logging.getLogger(__name__)
REPLAYED = "Idempotent-Replayed"
STORED_HEADERS = ("content-type",)  # what a replay repeats besides status and body
RETRY_IN_PROGRESS_SECONDS = 1

IN_PROGRESS = "IN_PROGRESS"
APPLIED_RESPONSE_LOST = "APPLIED_RESPONSE_LOST"
KEY_REUSED = "KEY_REUSED"


class Claim:
    """This request's hold on its key: marks it committed with each of the mutation's
    commits, then stores its response (or releases the key)."""

    def __init__(self, context: Context, request: service.KeyOfRequest, attempt: uuid.UUID) -> None:
        self.scope = context.scope
        self.request = request
        self.attempt = attempt
        self.committed = False  # a unit of work marked the key committed (before its COMMIT)
        self.scope.writes.before_commit = self.mark_committed

    async def mark_committed(self, uow: UnitOfWork) -> None:
        await service.mark_committed(uow, self.request, self.attempt)
        self.committed = True

    async def settle(self, response: Response) -> Response:
        """Store the response, or leave or release the key; the response goes out whatever
        happens to the key (a repeat then finds it committed, or running until its lease ends)."""
        try:
            await self._settle(response)
        except Exception:
            log.warning(
                "idempotency key not settled; a repeat is answered from its state", exc_info=True
            )
        return response

    async def _settle(self, response: Response) -> None:
        answered = _answered(response.body)
        # Applied, and its answer is an error (a read after the commit failed): a repeat says
        # that it was applied rather than replaying an error or running it again.
        unanswered = self.committed and not answered
        if unanswered and await service.end_lease(self.scope, self.request, self.attempt):
            return
        if self.committed or answered:
            headers = {
                name: response.headers[name] for name in STORED_HEADERS if name in response.headers
            }
            stored = service.StoredResponse(response.status_code, headers, bytes(response.body))
            states = (
                (service.COMMITTED,) if self.committed else (service.RUNNING, service.COMMITTED)
            )
            if await service.store_response(
                self.scope, self.request, self.attempt, stored, from_states=states
            ):
                return
        # Failed before committing anything (or its COMMIT failed): the draft lets a failed
        # request be retried, and nothing of it was applied.
        await service.release(self.scope, self.request, self.attempt)

    async def abandon(self) -> None:
        """The request failed with an exception: free the key unless something committed (if
        that fails too, the key's lease runs out and a repeat takes it over)."""
        if self.committed:
            return
        try:
            await service.release(self.scope, self.request, self.attempt)
        except Exception:
            log.warning("idempotency key not released", exc_info=True)


async def guarded(
    request: Request, context: Context, settings: Settings, answer: Callable[[], Awaitable[Any]]
) -> Any:
    """The answer of a request, idempotent when it is a mutation with an Idempotency-Key."""
    found = await _claim(request, context, settings)
    if not isinstance(found, Claim):
        return await answer() if found is None else found
    try:
        response = await answer()
    except Exception:
        await found.abandon()
        raise
    return await found.settle(response)


async def _claim(request: Request, context: Context, settings: Settings) -> Claim | Response | None:
    """A claim on the key, the answer to a repeat, or None: not a keyed mutation."""
    sent = request.headers.getlist(HEADER)
    if not sent or request.method != "POST":
        return None
    mutation = _mutation(await request.body(), settings.max_tokens)
    if mutation is None:
        return None
    try:
        key = parse_key(sent)
    except BadUserInput as refusal:
        return _error(refusal, 400)
    query, operation_name, variables, name = mutation
    asked = service.KeyOfRequest(
        context.principal.user_id, key, fingerprint(query, operation_name, variables), name
    )
    found = await service.claim(
        context.scope,
        asked,
        ttl_seconds=settings.idempotency_key_ttl_seconds,
        lease_seconds=settings.idempotency_lease_seconds,
    )
    if isinstance(found, uuid.UUID):
        return Claim(context, asked, found)
    return _repeat_answer(found)


def _repeat_answer(held: service.Held) -> Response:
    if not held.same_request:
        refusal = BadUserInput.single(
            HEADER,
            "this idempotency key was used with another request (document, operation or "
            "variables); use a new key for a new request.",
        )
        refusal.details["idempotency"] = KEY_REUSED
        return _error(refusal, 422)
    if held.response is not None:
        stored = held.response
        IDEMPOTENT_REPLAYS.inc()
        headers = {**stored.headers, REPLAYED: "true"}
        return Response(stored.body, stored.status, headers)
    if held.state == service.COMMITTED and not held.lease_alive:
        return _conflict(
            "The original request with this idempotency key was applied, and its response "
            "was lost; it is not run again. Read the current state to see its result.",
            APPLIED_RESPONSE_LOST,
            applied=True,
        )
    return _conflict(
        "A request with this idempotency key is still being processed; retry later.",
        IN_PROGRESS,
        applied=held.state == service.COMMITTED,
        headers={"Retry-After": str(RETRY_IN_PROGRESS_SECONDS)},
    )


def _conflict(
    message: str, reason: str, *, applied: bool, headers: dict[str, str] | None = None
) -> Response:
    extensions = {"code": "CONFLICT", "idempotency": reason, "applied": applied}
    body = {"errors": [{"message": message, "extensions": extensions}]}
    return json_response(body, 409, headers)


def _error(error: AppError, status: int) -> Response:
    body = {"errors": [{"message": error.message, "extensions": error.extensions}]}
    return json_response(body, status)


def _mutation(
    body: bytes, max_tokens: int
) -> tuple[str, str | None, dict[str, Any] | None, str | None] | None:
    """Document, operation name, variables and the operation's own name of a POSTed mutation;
    None for anything else (what is malformed, strawberry reports without running it)."""
    try:
        sent = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(sent, dict):
        return None
    query, operation_name, variables = (
        sent.get(k) for k in ("query", "operationName", "variables")
    )
    if not isinstance(query, str) or not isinstance(operation_name, str | None):
        return None
    if not isinstance(variables, dict | None):
        return None
    try:
        operation = get_operation_ast(parse(query, max_tokens=max_tokens), operation_name)
    except GraphQLError:
        return None
    if operation is None or operation.operation is not OperationType.MUTATION:
        return None
    name = operation.name.value[:200] if operation.name else None
    return query, operation_name, variables, name


def _answered(body: bytes | memoryview) -> bool:
    """Whether a GraphQL response answers something: no errors, or some root field's value."""
    try:
        sent = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(sent, dict):
        return False
    data = sent.get("data")
    has_data = isinstance(data, dict) and any(v is not None for v in data.values())
    return not sent.get("errors") or has_data
