"""GraphQL over WebSocket (graphql-transport-ws and the legacy graphql-ws): who may connect
and for how long.

- The browser's Origin must be on the CORS allow-list (strawberry refuses the handshake).
- The token comes in `connection_init` (`{"authorization": "Bearer ..."}`, or
  `Authorization`, `headers.Authorization`, `authToken`: `_sent_authorization`) or in the
  upgrade request's Authorization header; strawberry runs no operation before a valid init.
  A refused token closes with 4403, the reason saying what was wrong (`refusal_reason`); an
  init that could not be decided is no refusal: an outage of the database or Redis closes
  with 1013 (Try Again Later) and a reason naming its code, a bug with 1011
  (`InitNotDecided`; graphql-ws sends its coded `connection_error` first).
- Operations are admitted, and frames sent, by the protocol handlers in app/web/ws_protocols.py.
- While the socket is open its token is watched: the socket closes (4401) when the token
  expires and when it is revoked: as soon as this process learns of it (a logout, a notice
  over Redis, the revocation view's refresh: app/revocations.py), rechecked every
  `WS_AUTH_RECHECK_SECONDS` as a backstop, and as each mutation starts (HTTP checks every
  request).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from app.auth import Principal
from app.data.failures import database_failure, log_failure
from app.errors import AppError, ServiceUnavailable
from app.runtime import Runtime
from resolvers.context import Context
from resolvers.errors import MASKED_MESSAGE

log = logging.getLogger(__name__)
UNAUTHORIZED = 4401
FORBIDDEN = 4403  # a refused connection_init (graphql-transport-ws)
TRY_AGAIN_LATER = 1013
INTERNAL_ERROR = 1011
# What on_ws_connect returns to accept a connection with no ack payload (strawberry's UNSET,
# which it types as Any).
ACKNOWLEDGED: UnsetType = UNSET


def with_extensions(refusal: dict[str, object]) -> dict[str, object]:
    """A legacy `connection_error` payload: `code` as it always was, `extensions.code` as
    on every other error frame."""
    return {**refusal, "extensions": {"code": refusal["code"]}}


def refusal_reason(websocket: Any, code: int, reason: str) -> str:
    """The close reason of a refused `connection_init` (4403): what was wrong, with its code
    ("UNAUTHENTICATED: Token has expired."), instead of strawberry's bare "Forbidden"."""
    refusal = getattr(websocket.state, "init_refusal", None)
    if code != FORBIDDEN or not isinstance(refusal, dict):
        return reason
    return f"{refusal.get('code')}: {refusal.get('message')}"


class InitNotDecided(Exception):
    """connection_init could not be decided either way: not a refusal of the token (4403),
    which would tell the client to sign in again. The protocol handlers close with
    `close_code` (graphql-ws sends `payload` as its connection_error first)."""

    def __init__(self, payload: dict[str, object], close_code: int) -> None:
        super().__init__(payload["message"])
        self.payload = with_extensions(payload)
        self.close_code = close_code

    @property
    def reason(self) -> str:
        return f"{self.payload['code']}: {self.payload['message']}"

    @classmethod
    def outage(cls, failure: ServiceUnavailable) -> InitNotDecided:
        return cls({"message": failure.message, "code": failure.code}, TRY_AGAIN_LATER)


@dataclass(frozen=True)
class Refusal:
    """Why an operation on a signed-in socket may not start."""

    error: GraphQLError
    closes: bool  # after the error frame, the socket closes (4401)


def _sent_authorization(context: Context) -> Any:
    """The token where the clients people use put it in `connection_init`: `authorization`
    or `Authorization` (graphql-ws, gql), `headers.Authorization` (Apollo's and urql's
    examples pass the HTTP headers), `authToken` (a bare token, the subscriptions-transport-ws
    convention); else the upgrade request's Authorization header."""
    params = context.connection_params or {}
    headers = params.get("headers")
    for holder in (params, headers if isinstance(headers, dict) else {}):
        for key in ("authorization", "Authorization"):
            if key in holder:
                return holder[key]
    token = params.get("authToken")
    if isinstance(token, str):
        return token if token.lstrip().lower().startswith("bearer ") else f"Bearer {token}"
    if token is not None:
        return token
    return context.request.headers.get("authorization")


class WebSocketAuth:
    runtime: Runtime

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        try:
            return await self._sign_in(context)
        except ConnectionRejectionError as refused:
            # graphql-transport-ws closes a refusal with 4403 and strawberry's reason
            # "Forbidden": the socket keeps why, for its close frame (refusal_reason).
            context.request.state.init_refusal = refused.payload
            # The legacy protocol sends the payload as its connection_error: the code also
            # goes where every other error frame has it.
            raise ConnectionRejectionError(with_extensions(refused.payload)) from None

    async def _sign_in(self, context: Context) -> UnsetType | dict[str, object] | None:
        if context.signed_in:  # the legacy protocol does not refuse a second init itself
            raise ConnectionRejectionError(
                {"message": "The connection is already initialised.", "code": "BAD_USER_INPUT"}
            )
        authorization = _sent_authorization(context)
        if not isinstance(authorization, str):
            raise ConnectionRejectionError(
                {"message": "Send authorization: 'Bearer <token>'.", "code": "UNAUTHENTICATED"}
            )
        try:
            principal = await self.runtime.authenticator.authenticate(authorization)
        except ServiceUnavailable as outage:  # Redis or the database (TIMEOUT too)
            raise InitNotDecided.outage(outage) from None
        except AppError as error:
            raise ConnectionRejectionError({"message": error.message, "code": error.code}) from None
        except Exception as error:
            failure = database_failure(error)
            if failure is not None:
                log_failure(failure, error, context.request_id)
                raise InitNotDecided.outage(failure) from None
            log.exception("unexpected error in connection_init [request %s]", context.request_id)
            masked: dict[str, object] = {"message": MASKED_MESSAGE, "code": "INTERNAL_SERVER_ERROR"}
            raise InitNotDecided(masked, INTERNAL_ERROR) from None
        context.sign_in(principal, self.runtime.scope_for(principal))
        websocket = context.request
        assert isinstance(websocket, WebSocket)
        context.watch(asyncio.create_task(self._watch_token(websocket, principal)))
        return ACKNOWLEDGED

    async def operation_refusal(self, context: Context) -> Refusal | None:
        """HTTP looks the token up in the revocations with every request; a socket, with
        every mutation as it starts, so a logged-out token changes nothing more (should its
        watcher not have closed the socket yet). A view of the revocations too old to trust
        refuses the mutation as it refuses an HTTP request."""
        try:
            revoked = await self.runtime.authenticator.is_revoked(context.principal.token)
        except AppError as error:
            return Refusal(GraphQLError(error.message, extensions=error.extensions), False)
        if not revoked:
            return None
        revocation = GraphQLError("Token has been revoked.", extensions={"code": "UNAUTHENTICATED"})
        return Refusal(revocation, True)

    async def _watch_token(self, websocket: WebSocket, principal: Principal) -> None:
        """Close the socket when the token expires or is revoked: at once when this process
        learns of the revocation (a logout here, a notice over Redis, the view's refresh),
        and at the latest at the next recheck (the backstop)."""
        recheck = self.runtime.settings.ws_auth_recheck_seconds
        token = principal.token
        if token.jti is None:
            revoked = asyncio.Event()  # a token without jti cannot be revoked
            watching: contextlib.AbstractContextManager[asyncio.Event] = contextlib.nullcontext(
                revoked
            )
        else:
            watching = self.runtime.authenticator.revocations.watching(token.issuer, token.jti)
        with watching as revoked:
            while True:
                left = token.expires_at - time.time()
                if left <= 0:
                    await _close(websocket, "Token has expired.")
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(revoked.wait(), min(recheck, left))
                if revoked.is_set() or (
                    time.time() < token.expires_at and await self._revoked(principal)
                ):
                    await _close(websocket, "Token has been revoked.")
                    return

    async def _revoked(self, principal: Principal) -> bool:
        try:
            return await self.runtime.authenticator.is_revoked(principal.token)
        except AppError:
            # The revocation view is too old to trust (the database away): the token was good
            # at connect time and its expiry is still enforced here; look again at the next
            # recheck instead of dropping every live socket during an outage.
            return False


async def _close(websocket: WebSocket, reason: str) -> None:
    with contextlib.suppress(RuntimeError, OSError):
        await websocket.close(code=UNAUTHORIZED, reason=reason)
