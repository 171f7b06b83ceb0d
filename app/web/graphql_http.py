"""The /graphql endpoint: request limits and authentication in front of strawberry.

Order of checks for HTTP: GraphiQL page (no token needed, it holds no data) -> method ->
Accept (the response's media type, app/web/graphql_over_http.py) -> JSON content type -> body
size -> token. Only then does strawberry parse and validate
(with its depth, alias and token limits) and execute; or, for a POSTed query document that
has passed all of that before and was answered from its compiled plan, the plan answers it
again straight away, without strawberry's view (resolvers/compiled/extension.py), once its
cost with these variables is within the limit (resolvers/query_cost.py). No
resolver ever runs for a request that fails one of these checks.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http.types import QueryParams
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from app.data.failures import database_failure, log_failure
from app.errors import AppError, ServiceUnavailable
from app.runtime import Runtime
from app.telemetry import tracing
from app.telemetry.describe import codes_of, note_cost, note_error_codes
from app.telemetry.record import current_request_id, request_id_set
from app.web.apq_store import DocumentStore
from app.web.graphiql import page_response
from app.web.graphql_over_http import (
    labelled,
    negotiated,
    not_acceptable,
    request_error,
    shaped_result,
)
from app.web.graphql_ws import WebSocketAuth
from app.web.http import app_error_response, error_response, retry_after, retry_later_seconds
from app.web.idempotency import guarded
from app.web.persisted_documents import PersistedDocuments
from app.web.rate_limit import RateLimits
from app.web.served import accept_websocket, answered, http_served, request_id_from, signed_in
from app.web.ws_adapter import WebSocketAdapter
from app.web.ws_protocols import LegacyWSHandler, TransportWSHandler
from resolvers.compiled.extension import ATTEMPT, Attempt, attempt_for
from resolvers.context import Context
from resolvers.errors import MASKED_MESSAGE, OPERATION_RESOLUTION_FAILURE, apply_error_policy
from resolvers.schema import CrmSchema, build_schema

log = logging.getLogger(__name__)
JSON_TYPES = ("application/json", "application/graphql-response+json")


class BodyTooLarge(Exception):
    pass


def within_limit(receive: Receive, limit: int) -> Receive:
    """`receive`, failing with BodyTooLarge as soon as the body has passed `limit` bytes."""
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge
        return message

    return receive_within_limit


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The body of a request that receives `within_limit`. Starlette keeps it once read:
    strawberry and the compiled path read it again through `request.body()`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    return await request.body()


def _wants_graphiql(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.method == "GET" and "text/html" in accept and "query" not in request.query_params


class CrmGraphQL(WebSocketAuth, GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler
    websocket_adapter_class = WebSocketAdapter

    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
            allowed_origins=settings.cors_origins,
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
            # A backstop for every operation in flight on a socket (queries and mutations
            # too); subscriptions meet their own limit first (app/web/ws_admission.py).
            max_subscriptions_per_connection=settings.ws_max_subscriptions + 10,
        )
        self.runtime = runtime
        self.rate_limits = RateLimits.of(runtime.rate_limiter, self.schema, settings)
        # APQ and trusted documents; a manifest it cannot use stops the server here.
        self.persisted = PersistedDocuments.of(settings, DocumentStore(runtime.redis, settings))
        # The HTTP streams strawberry would answer (none unless subscription_protocols names
        # one, such as graphql-sse), chosen from the Accept header as its views choose them.
        self.stream_transports = [
            transport_class()
            for protocol in self.protocols
            if (transport_class := self.stream_transport_classes_by_protocol.get(protocol))
        ]

    def decode_json(self, data: str | bytes) -> object:
        # orjson, for request bodies and WebSocket messages alike: what it refuses is a
        # JSONDecodeError, which strawberry answers (json's int() of a number with thousands
        # of digits raised a ValueError it did not: a 500, or a failed socket).
        return orjson.loads(data)

    def parse_query_params(self, params: QueryParams) -> dict[str, Any]:
        # GraphQL over HTTP: an empty optional parameter of a GET is as if it were not sent
        # (strawberry looked up an operation named "" and parsed "" as JSON variables).
        sent = {k: v for k, v in params.items() if v != "" or k not in OPTIONAL_PARAMETERS}
        return super().parse_query_params(sent)

    def encode_json(self, data: object) -> str:
        # Text, not bytes: strawberry sends bytes as binary WebSocket frames, which browser
        # clients (graphql-ws) cannot parse.
        return orjson.dumps(data).decode()

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        """As strawberry's, but the JSON goes out as the bytes orjson made: no round trip
        through a str (encode_json returns text for the WebSocket frames)."""
        response = Response(orjson.dumps(response_data), media_type="application/json")
        response.headers.raw.extend(sub_response.headers.raw)
        response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        return response

    async def create_websocket_response(
        self, request: WebSocket, subprotocol: str | None
    ) -> WebSocket:
        await accept_websocket(request, subprotocol)  # with X-Request-ID (app/web/served.py)
        return request

    async def render_graphql_ide(self, request: Request) -> Response:
        return page_response()  # ours: its assets come from this server, not a CDN

    async def process_result(self, request: Request, result: ExecutionResult) -> Any:
        # Errors raised before the operation starts (syntax, token limit) bypass the schema
        # extensions; the policy is idempotent, so it is applied here once more for all.
        if result.errors:
            request_id = getattr(request.state, "request_id", "-")
            result.errors = apply_error_policy(result.errors, request_id)
        body = await super().process_result(request, result)
        shaped_result(request, body, result.errors or [])  # GraphQL over HTTP's status, body
        note_error_codes(codes_of(body.get("errors") or ()))
        request.state.retry_after = retry_later_seconds(body)  # _dispatch decides on a 503
        return body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._handle_websocket(WebSocket(scope, receive, send))
            return
        request = Request(scope, within_limit(receive, self.runtime.settings.max_body_bytes))
        with http_served(request) as record:  # the access line and metrics (app/web/served.py)
            response = labelled(request, await self._handle_http(request))  # media type
            self.rate_limits.stamp(request, response)
            answered(record, response)
            await response(scope, receive, send)

    async def _handle_websocket(self, websocket: WebSocket) -> None:
        """Signed in later, by connection_init (see WebSocketAuth)."""
        context = self._new_context(websocket, websocket)
        try:
            with request_id_set(context.request_id):  # the connection's lines; operations: theirs
                await self.run(websocket, context=context)
        finally:
            context.close()

    def _new_context(self, request: Request | WebSocket, response: WebSocket | None) -> Context:
        request_id = current_request_id() or request_id_from(request.headers.get("x-request-id"))
        request.state.request_id = request_id
        runtime = self.runtime
        return Context(
            request=request,
            response=response,
            settings=runtime.settings,
            authenticator=runtime.authenticator,
            hub=runtime.hub,
            lexware=runtime.lexware,
            request_id=request_id,
        )

    async def _handle_http(self, request: Request) -> Any:
        try:
            return await self._dispatch(request)
        except Exception as error:
            request_id = getattr(request.state, "request_id", "-")
            # A backing service is down (e.g. while provisioning the caller): nothing changed.
            failure = database_failure(error)
            if failure is not None:
                log_failure(failure, error, request_id)
                return app_error_response(failure)
            log.exception("unexpected error [request %s]", request_id)
            return error_response(MASKED_MESSAGE, "INTERNAL_SERVER_ERROR", 500)

    async def _dispatch(self, request: Request) -> Any:
        if _wants_graphiql(request):
            if self.graphql_ide:
                return await self.render_graphql_ide(request)
            return error_response("GraphiQL is disabled.", "NOT_FOUND", 404)
        refusal = await self._refuse_request(request)
        if refusal is not None:
            return refusal
        try:
            context = await self._context(request)
        except AppError as error:
            return app_error_response(error)
        # A persisted document's text in place of its hash, for both paths below (or refused).
        resolved = await self.persisted.http_request(request)
        if isinstance(resolved, Response):
            return resolved
        request = resolved
        try:
            attempt = await self._attempt(request)
        except HTTPException as error:
            return error_response(error.reason, "BAD_USER_INPUT", error.status_code)
        over_budget = await self.rate_limits.charge_http(request, context.principal, attempt)
        if over_budget is not None:
            return over_budget  # nothing ran (app/web/rate_limit.py)
        await self.persisted.register_http(request)  # an APQ document, now it may run
        settings = self.runtime.settings
        return await guarded(
            request, context, settings, lambda: self._answer(request, context, attempt)
        )

    async def _answer(self, request: Request, context: Context, attempt: Attempt | None) -> Any:
        started = ATTEMPT.set(attempt)  # the full way reads it if it answers (or admits)
        try:
            answered = await self._answer_admitted(attempt, context)
            return answered or _retry_later(await self.run(request, context=context), context)
        except HTTPException as error:
            return _refusal(request, error)
        finally:
            ATTEMPT.reset(started)

    async def _attempt(self, request: Request) -> Attempt | None:
        """A POSTed JSON operation, as the compiled path keys it; None for anything unusual
        (the full way parses and reports it), GET, and clients asking for a stream. A body
        that is JSON but not an object is refused here (HTTPException)."""
        if request.method != "POST":
            return None
        if "application/json" not in request.headers.get("content-type", ""):
            return None  # strawberry parses only that as JSON: the full way answers the rest
        try:
            body = orjson.loads(await request.body())  # read by now (_refuse_request)
        except orjson.JSONDecodeError:
            return None  # strawberry answers it (400)
        if not isinstance(body, dict):  # strawberry failed on null and 1 (a masked 500)
            raise HTTPException(400, NOT_AN_OBJECT)
        if not isinstance(body.get("operationName"), str | None):  # strawberry looked it up
            raise HTTPException(400, NOT_A_NAME)
        accept = request.headers.get("accept", "")
        if any(transport.accepts(accept) for transport in self.stream_transports):
            return None
        if not isinstance(body.get("extensions"), dict | None):
            return None
        return attempt_for(body.get("query"), body.get("operationName"), body.get("variables"))

    async def _answer_admitted(self, attempt: Attempt | None, context: Context) -> Any:
        """The response to a document the compiled path has answered before, from its plan,
        without strawberry's view (request adapter, body parsing, result processing: a third
        of such a request's time); None when the full way must answer."""
        schema = self.schema
        assert isinstance(schema, CrmSchema)
        if attempt is None or schema.compiled is None or schema.costs is None:
            return None
        if not schema.compiled.admits(attempt):
            return None  # no plan (yet): the full way answers, and may make one
        # The cost depends on the variables: over the limit (or unknown), the full way refuses.
        cost = schema.costs.admitted_cost(*attempt.key, attempt.variables)
        if cost is None:
            return None
        note_cost(cost)
        try:
            with tracing.operation_span(*attempt.key, "query"):  # no extension runs here
                data = await schema.compiled.answer_admitted(schema, attempt, context)
        except ServiceUnavailable as failure:  # as the full way answers it (process_result)
            extensions = {**failure.extensions, "requestId": context.request_id}
            note_error_codes([failure.code])
            error = {"message": failure.message, "extensions": extensions}
            body = {"data": None, "errors": [error], "extensions": {"cost": cost}}
            headers = retry_after(failure.retry_after_seconds)
            return Response(orjson.dumps(body), 503, headers, media_type="application/json")
        if data is None:
            return None
        answer = {"data": data, "extensions": {"cost": cost}}
        return Response(orjson.dumps(answer), media_type="application/json")

    async def _refuse_request(self, request: Request) -> Any:
        if request.method not in ("GET", "POST"):
            return error_response("Use GET or POST.", "BAD_USER_INPUT", 405, ALLOW_GET_POST)
        accept = request.headers.get("accept", "")
        media_type = negotiated(accept)  # app/web/graphql_over_http.py
        if media_type is not None:
            request.state.media_type = media_type
        elif not any(transport.accepts(accept) for transport in self.stream_transports):
            return not_acceptable()  # (a stream, strawberry answers in its own media type)
        if request.method == "POST":
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type not in JSON_TYPES:
                return error_response(
                    "Send GraphQL requests as JSON (Content-Type: application/json).",
                    "BAD_USER_INPUT",
                    415,
                )
            try:
                await read_limited_body(request, self.runtime.settings.max_body_bytes)
            except BodyTooLarge:
                return error_response("Request body is too large.", "BAD_USER_INPUT", 413)
        return None

    async def _context(self, request: Request) -> Context:
        runtime = self.runtime
        context = self._new_context(request, None)
        principal = await runtime.authenticator.authenticate(request.headers.get("authorization"))
        context.sign_in(principal, runtime.scope_for(principal))
        signed_in(context)
        return context


def _retry_later(response: Response, context: Context) -> Response:
    """503 with Retry-After for an answer the database failed entirely (no root field has
    data, an error is TIMEOUT or SERVICE_UNAVAILABLE), unless something may have committed:
    a mutation's earlier root field, or a write whose read-back failed. A retry would write
    it twice, so that answer stays 200 with its errors."""
    wait = getattr(context.request.state, "retry_after", None)
    if wait is not None and not context.scope.writes.committing:
        response.status_code = 503
        response.headers.update(retry_after(wait))
    return response


SUBSCRIPTION_OVER_HTTP = (
    "Subscriptions run over the WebSocket at this same URL (graphql-transport-ws, or the "
    "legacy graphql-ws), not over HTTP."
)
NOT_AN_OBJECT = (
    'The request body must be a JSON object such as {"query": "...", "variables": {...}} '
    "(one operation: batches are not supported)."
)


NOT_A_NAME = "The GraphQL operation's `operationName` must be a string or null, if provided."
MUTATION_OVER_GET = "Mutations are sent with POST: GET requests run only queries."
ALLOW_GET_POST = {"Allow": "GET, POST"}
OPTIONAL_PARAMETERS = frozenset({"operationName", "variables", "extensions"})


def _refusal(request: Request, error: HTTPException) -> Response:
    """strawberry's refusal before execution, as GraphQL over HTTP answers it."""
    cause = error.__cause__
    if isinstance(cause, CannotGetOperationTypeError):  # an operationName naming no operation
        return request_error(request, error.reason, OPERATION_RESOLUTION_FAILURE)
    if isinstance(cause, InvalidOperationTypeError):
        if cause.operation_type is OperationType.SUBSCRIPTION:
            return error_response(SUBSCRIPTION_OVER_HTTP, "BAD_USER_INPUT", 400)
        if cause.operation_type is OperationType.MUTATION and request.method == "GET":
            return error_response(MUTATION_OVER_GET, "BAD_USER_INPUT", 405, {"Allow": "POST"})
    return error_response(error.reason, "BAD_USER_INPUT", error.status_code)
