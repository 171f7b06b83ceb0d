"""How many operations one GraphQL WebSocket may run, over a real socket, both protocols:
the subscription after the limit is refused with RATE_LIMITED whatever the pace and the
documents, a finished one frees its slot, and every error frame carries a code."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.routing import WebSocketRoute

from app.settings import Settings
from tests.conftest import Api
from tests.live import LEGACY_WS, TRANSPORT_WS, GraphQLSocket, graphql_socket
from tests.test_deals import deal, pipeline
from tests.test_subscriptions import new_company

PROTOCOLS = [TRANSPORT_WS, LEGACY_WS]
RESULT = ("next", "data")
# Distinct documents are distinct shared streams (dealChanged) and distinct parses.
EVENTS = "subscription { %s crmEvents { id } }"
BOARD = "subscription($p: ID!) { %s dealChanged(pipelineId: $p) { dealId } }"


def document(template: str, n: int) -> str:
    """Every other operation's document is distinct (an alias of its own)."""
    return template % (f"a{n}:" if n % 2 else "")


def codes(frame: dict[str, Any]) -> list[str | None]:
    payload = frame["payload"]
    errors = payload if isinstance(payload, list) else payload.get("errors", [payload])
    return [e.get("extensions", {}).get("code") for e in errors]


async def stop(socket: GraphQLSocket, op_id: str) -> None:
    kind = "complete" if socket.protocol == TRANSPORT_WS else "stop"
    await socket.send({"id": op_id, "type": kind})


async def refusals(socket: GraphQLSocket, count: int) -> dict[str, list[str | None]]:
    """The next `count` error frames by id; fails on a result (a refused operation ran)."""
    refused: dict[str, list[str | None]] = {}
    while len(refused) < count:
        frame = await socket.receive()
        assert frame["type"] == "error", frame
        refused[frame["id"]] = codes(frame)
    return refused


async def delivering(socket: GraphQLSocket, make_event: Any, expected: set[str]) -> None:
    """Make events until every expected operation delivered one; any other operation's
    result fails. An operation delivers only once it is registered: a few rounds may pass."""
    seen: set[str] = set()
    for _ in range(10):
        await make_event()
        try:
            while seen != expected:
                frame = await socket.receive(wait=1)
                assert frame["type"] in RESULT and frame["id"] in expected, frame
                seen.add(frame["id"])
            return
        except TimeoutError:
            continue
    raise AssertionError(f"never delivered: {sorted(expected - seen)}")


async def subscriptions_of(api: Api, field: str) -> tuple[str, dict[str, Any], Any]:
    if field == "crmEvents":
        return EVENTS, {}, lambda: new_company(api, "event")
    board = (await pipeline(api))["id"]
    return BOARD, {"p": board}, lambda: deal(api, pipelineId=board)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("field", ["crmEvents", "dealChanged"])  # unshared, shared
@pytest.mark.parametrize("pace", ["burst", "spaced"])
async def test_the_subscription_after_the_limit_is_refused_with_a_code(
    live: str, api: Api, settings: Settings, protocol: str, field: str, pace: str
) -> None:
    limit = settings.ws_max_subscriptions
    over = 200 if pace == "burst" else 10
    template, variables, make_event = await subscriptions_of(api, field)
    async with graphql_socket(live, protocol) as socket:
        await socket.init(api.token())
        for n in range(limit + over):
            await socket.subscribe(document(template, n), variables)
            if pace == "spaced":
                await asyncio.sleep(0.05)  # pacing, as the audit did: each one starts first
        refused = await refusals(socket, over)
        assert set(refused) == {str(n) for n in range(limit + 1, limit + over + 1)}
        assert {code for found in refused.values() for code in found} == {"RATE_LIMITED"}
        await delivering(socket, make_event, {str(n) for n in range(1, limit + 1)})


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_finished_subscription_frees_its_slot(
    live: str, api: Api, settings: Settings, protocol: str
) -> None:
    limit = settings.ws_max_subscriptions
    async with graphql_socket(live, protocol) as socket:
        await socket.init(api.token())
        for n in range(limit):
            await socket.subscribe(document(EVENTS, n))
        full = await socket.subscribe(document(EVENTS, limit))
        assert await refusals(socket, 1) == {full: ["RATE_LIMITED"]}
        # Stopped by the client: the slot is free before the next message.
        await stop(socket, "1")
        again = await socket.subscribe(document(EVENTS, 0))
        # Ended by the server (a cursor from the future): its slot comes back too.
        await stop(socket, "2")
        future = document(EVENTS, 0).replace("crmEvents", 'crmEvents(after: "999999")')
        failing = await socket.subscribe(future)
        frame = await socket.receive()
        while frame["type"] == "complete":  # of a stopped one (the legacy protocol says so)
            frame = await socket.receive()
        assert frame["id"] == failing and codes(frame) == ["BAD_USER_INPUT"], frame
        if frame["type"] != "error":  # an error while running: a result, then complete
            assert await socket.receive() == {"id": failing, "type": "complete"}
        last = await socket.subscribe(document(EVENTS, 1))
        live_ids = {str(n) for n in range(3, limit + 1)} | {again, last}
        await delivering(socket, lambda: new_company(api, "event"), live_ids)


@asynccontextmanager
async def company_table_locked(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    """Every query reading companies waits while this transaction holds its lock."""
    async with sessions() as session, session.begin():
        await session.execute(text("LOCK TABLE company IN ACCESS EXCLUSIVE MODE"))
        yield
        await session.rollback()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_operations_in_flight_are_capped_with_a_code(
    live: str,
    api: Api,
    app: Any,
    owner_sessions: async_sessionmaker[AsyncSession],
    protocol: str,
) -> None:
    """Queries take no subscription slot, but a socket holds only so many operations in
    flight: one more is refused with a code (strawberry's own limit answered without)."""
    [graphql] = [route.endpoint for route in app.routes if isinstance(route, WebSocketRoute)]
    backstop = graphql.max_subscriptions_per_connection
    async with graphql_socket(live, protocol) as socket:
        await socket.init(api.token())
        async with company_table_locked(owner_sessions):
            for _ in range(backstop + 1):
                await socket.subscribe("{ companies(first: 1) { edges { node { id } } } }")
            refused = await refusals(socket, 1)
        assert refused == {str(backstop + 1): ["RATE_LIMITED"]}
        answered: set[str] = set()
        while len(answered) < backstop:
            frame = await socket.receive()
            if frame["type"] == "complete":
                answered.add(frame["id"])
            else:
                assert "RATE_LIMITED" not in codes(frame), frame


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_an_unknown_operation_name_is_a_coded_request_error(
    live: str, api: Api, protocol: str
) -> None:
    """Strawberry reports it with an exception the error policy used to mask."""
    async with graphql_socket(live, protocol) as socket:
        await socket.init(api.token())
        await socket.send(
            {
                "id": "1",
                "type": "subscribe" if protocol == TRANSPORT_WS else "start",
                "payload": {"query": "query A { me { roles } }", "operationName": "B"},
            }
        )
        if protocol == TRANSPORT_WS:  # the protocol closes for a document it cannot run
            assert await socket.closed_with() == 4400
            return
        frame = await socket.receive()
    # Apollo Server's code for an operation that cannot be chosen, as over HTTP
    assert frame["type"] == "error" and codes(frame) == ["OPERATION_RESOLUTION_FAILURE"], frame
    assert "B" in frame["payload"]["message"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_document_larger_than_an_http_body_is_refused(
    live: str, api: Api, settings: Settings, protocol: str
) -> None:
    padding = " " * settings.max_body_bytes  # few tokens: only its size is wrong
    async with graphql_socket(live, protocol) as socket:
        await socket.init(api.token())
        await socket.subscribe("{ me { roles } }" + padding)
        refused = await refusals(socket, 1)
        assert refused == {"1": ["BAD_USER_INPUT"]}
        await socket.subscribe("{ me { roles } }")
        assert await socket.next_data() == {"me": {"roles": ["admin"]}}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_the_document_limit_counts_bytes_not_characters(
    live: str, api: Api, settings: Settings, protocol: str
) -> None:
    """A quarter of the limit in characters outside the BMP (four bytes each in UTF-8) is
    over it, as it is over HTTP: it was admitted, counted in characters."""
    comment = "# " + "\U0001f600" * (settings.max_body_bytes // 4 + 1) + "\n"
    kind = "subscribe" if protocol == TRANSPORT_WS else "start"
    message = {"id": "1", "type": kind, "payload": {"query": comment + "{ me { roles } }"}}
    async with graphql_socket(live, protocol) as socket:
        await socket.init(api.token())
        await socket.ws.send(json.dumps(message, ensure_ascii=False))  # within the frame limit
        refused = await refusals(socket, 1)
    assert refused == {"1": ["BAD_USER_INPUT"]}


async def test_a_message_far_over_the_limit_is_cut_before_it_is_read(
    live: str, api: Api, settings: Settings
) -> None:
    """uvicorn would read frames up to 16 MiB; a message over twice the body limit closes
    the socket (1009, message too big) instead of being held and parsed."""
    padding = " " * (2 * settings.max_body_bytes)
    async with graphql_socket(live) as socket:
        await socket.init(api.token())
        await socket.subscribe("{ me { roles } }" + padding)
        assert await socket.closed_with() == 1009
