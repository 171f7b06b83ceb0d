"""The WebSocket under both GraphQL protocols (strawberry's adapter, with what this server adds):
a text message that is not JSON reaches a legacy handler (which ignores parsing errors) as
`NotJson`, so that it can answer it; every frame sent carries its operation's requestId and is
counted on the request's record; a close reason (built from what the client sent, at times)
is cut to the bytes a close frame holds. The protocol handlers: app/web/ws_protocols.py."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from json import JSONDecodeError

from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import (
    NonJsonMessageReceived,
    NonTextMessageReceived,
    WebSocketDisconnected,
)

from app.telemetry.describe import note_frame
from app.web.graphql_ws import refusal_reason
from app.web.served import with_request_ids

CLOSE_REASON_BYTES = 123  # a close frame's payload is 125 bytes: the code, then the reason


class NotJson:
    """A text message that is not JSON, where the protocol answers it instead of failing."""


class WebSocketAdapter(ASGIWebSocketAdapter):
    """Strawberry's, but a legacy handler (which ignores parsing errors) receives a message
    that is not JSON as NotJson, to answer it; and close reasons fit a close frame."""

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object]:
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                try:
                    yield self.view.decode_json(text)
                except JSONDecodeError as error:
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from error
                    yield NotJson()
        except KeyError as error:  # a binary frame
            raise NonTextMessageReceived from error
        except WebSocketDisconnect:
            pass

    async def send_json(self, message: Mapping[str, object]) -> None:
        # Every error with its operation's requestId, every frame counted on its record.
        encoded = self.view.encode_json(with_request_ids(message, self.ws))
        note_frame(_size(encoded))
        try:
            if isinstance(encoded, bytes):
                await self.ws.send_bytes(encoded)
            else:
                await self.ws.send_text(encoded)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc

    async def close(self, code: int, reason: str) -> None:
        reason = refusal_reason(self.ws, code, reason)
        cut = reason.encode()[:CLOSE_REASON_BYTES].decode(errors="ignore")
        await super().close(code, cut)


def _size(encoded: str | bytes) -> int:
    """Bytes on the wire; isascii is a flag CPython keeps: most frames need no encoding."""
    if isinstance(encoded, bytes) or encoded.isascii():
        return len(encoded)
    return len(encoded.encode())
