"""A live subscription's stream, ended with a coded close when live events are lost.

The event hub interrupts its readers when it loses Redis (app/events/hub.py). A subscription
that just stopped would leave its client waiting for events that cannot arrive; an error frame
would end one operation and say nothing about when to come back. The socket closes instead,
with 1013 (Try Again Later) and a reason naming SERVICE_UNAVAILABLE: clients reconnect (with
backoff) and resume with `after`, which replays what they missed from the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TypeVar

from starlette.websockets import WebSocket

from app.events.hub import LiveEventsLost
from resolvers.context import Context

T = TypeVar("T")
# After the close frame the protocol handler cancels the socket's operations; this one waits
# for that rather than answer on a closing socket (bounded: a client that never answers).
CLOSING_SECONDS = 10.0


async def until_lost(context: Context, stream: AsyncIterator[T]) -> AsyncGenerator[T]:
    try:
        async for item in stream:
            yield item
    except LiveEventsLost as lost:
        if not isinstance(context.request, WebSocket):
            raise
        with contextlib.suppress(RuntimeError, OSError):  # another operation closed it first
            await context.request.close(code=lost.close_code, reason=lost.reason)
        await asyncio.sleep(CLOSING_SECONDS)
        raise
