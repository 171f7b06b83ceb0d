"""The legacy graphql-ws protocol as Python's gql client speaks it (its default), against a
real server: queries, mutations and subscriptions, with the checks HTTP has; and the
connection_init timeout, the same on both protocols."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from gql import Client, gql
from gql.client import AsyncClientSession
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from websockets.exceptions import ConnectionClosed

from app.settings import Settings
from tests.conftest import Api
from tests.live import LEGACY_WS, TRANSPORT_WS, GraphQLSocket, graphql_socket
from tests.test_subscriptions import new_company
from tests.test_ws_auth import server_with


@asynccontextmanager
async def gql_session(host: str, token: str) -> AsyncIterator[AsyncClientSession]:
    transport = WebsocketsTransport(
        url=f"ws://{host}/graphql",
        init_payload={"authorization": f"Bearer {token}"},
        subprotocols=[WebsocketsTransport.APOLLO_SUBPROTOCOL],  # "graphql-ws", gql's first
    )
    async with Client(transport=transport) as session:
        assert transport.subprotocol == LEGACY_WS
        yield session


def refusal_code(refused: pytest.ExceptionInfo[TransportQueryError]) -> Any:
    [error] = refused.value.errors or []
    return error["extensions"]["code"]


async def test_queries_and_mutations_over_gql(live: str, api: Api) -> None:
    async with gql_session(live, api.token()) as session:
        me = await session.execute(gql("query { me { roles tenant { slug } } }"))
        created = await session.execute(
            gql('mutation { createCompany(input: {name: "Über gql GmbH"}) { id name } }')
        )
        company_id = created["createCompany"]["id"]
        read_back = gql("query($id: ID!) { company(id: $id) { name } }")
        read_back.variable_values = {"id": company_id}
        read = await session.execute(read_back)
    assert me["me"] == {"roles": ["admin"], "tenant": {"slug": api.tenant}}
    assert read == {"company": {"name": "Über gql GmbH"}}
    # Committed like any mutation: HTTP sees it.
    assert (await api.data(COUNT))["companies"]["totalCount"] == 1


COUNT = "{ companies { totalCount } }"


async def test_over_gql_the_checks_of_http_hold(live: str, api: Api) -> None:
    await new_company(api, "A's only")
    async with gql_session(live, api.token("viewer")) as session:
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(gql('mutation { createCompany(input: {name: "x"}) { id } }'))
        assert refusal_code(refused) == "FORBIDDEN"
        aliases = " ".join(f"a{i}: companies {{ totalCount }}" for i in range(31))
        with pytest.raises(TransportQueryError) as too_many:
            await session.execute(gql(f"{{ {aliases} }}"))
        assert refusal_code(too_many) == "GRAPHQL_VALIDATION_FAILED"
        assert "aliases" in str(too_many.value)
    other = api.token(tenant="other-" + api.tenant)
    async with gql_session(live, other) as session:
        assert await session.execute(gql(COUNT)) == {"companies": {"totalCount": 0}}
    assert (await api.data(COUNT))["companies"]["totalCount"] == 1


async def test_a_subscription_over_gql(live: str, api: Api) -> None:
    async with gql_session(live, api.token()) as session:
        events = session.subscribe(gql("subscription { crmEvents { type entityId } }"))
        first = asyncio.ensure_future(anext(events))
        markers = []
        # The subscription is live once the server has registered it: make events until
        # one arrives (events keep their order; one made before that is never delivered).
        for _ in range(10):
            markers.append(await new_company(api, "über gql"))
            done, _ = await asyncio.wait({first}, timeout=1)
            if done:
                break
        event = first.result()["crmEvents"]
        await events.aclose()  # type: ignore[attr-defined]
    assert event["type"] == "crm.company.created"
    assert event["entityId"] in markers


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_socket_without_connection_init_is_closed(
    settings: Settings, protocol: str
) -> None:
    quick = settings.model_copy(update={"ws_init_timeout_seconds": 0.5})
    async with server_with(quick) as (host, _), graphql_socket(host, protocol) as socket:
        assert await socket.closed_with(wait=10) == 4408


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_document_that_does_not_parse_is_a_request_error(
    live: str, api: Api, protocol: str
) -> None:
    """Over the token limit too (the parser cache raised it where only HTTP caught it)."""
    fields = " ".join("id" for _ in range(2100))
    async with graphql_socket(live, protocol) as socket:
        await socket.init(api.token())
        await socket.subscribe(f"subscription {{ crmEvents {{ {fields} }} }}")
        if protocol == TRANSPORT_WS:  # the protocol closes for a document that cannot run
            assert await socket.closed_with() == 4400
            return
        refused = await socket.receive()
    assert refused["type"] == "error", refused
    assert refused["payload"]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert "tokens" in refused["payload"]["message"]


@pytest.mark.parametrize(
    "message",
    [
        [],
        {"type": "subscribe", "id": "1", "payload": {"query": "{ me { roles } }"}},
        {"type": "start", "payload": {"query": "{ me { roles } }"}},
        {"type": "start", "id": "1", "payload": {"query": 1}},
        {"type": "start", "id": "1", "payload": {"query": "{ me { roles } }", "variables": 1}},
        {"type": ["start"]},  # these two failed the connection (a membership test raised)
        {"type": {"a": 1}},
        "not JSON",  # was dropped without a word
        '{"type": "start", "id": "1", "payload": {"variables": {"n": %s}}}' % ("9" * 5000),
    ],
)
async def test_a_malformed_legacy_message_is_a_coded_error(
    live: str, api: Api, message: Any
) -> None:
    async with graphql_socket(live, LEGACY_WS) as socket:
        await socket.init(api.token())
        await (socket.ws.send(message) if isinstance(message, str) else socket.send(message))
        refused = await socket.receive()
        assert refused["type"] == "error", refused
        assert refused["payload"]["extensions"]["code"] == "BAD_USER_INPUT"
        # The connection still works.
        await socket.send({"type": "start", "id": "2", "payload": {"query": "{ me { roles } }"}})
        assert await socket.next_data() == {"me": {"roles": ["admin"]}}


LONG = "x" * 300  # in a close reason, longer than a close frame holds


@pytest.mark.parametrize(
    "message",
    [
        [],
        {"type": "subscribe", "id": "1", "payload": 1},
        {"type": "complete", "id": [1]},  # these failed the connection with a traceback
        {"type": "complete", "id": {"a": 1}},
        {"type": LONG},
        {"type": "subscribe", "id": "1", "payload": {"query": LONG}},  # a syntax error
        {
            "type": "subscribe",
            "id": "1",
            "payload": {"query": "{ me { roles } }", "operationName": LONG},
        },
        '{"type": "ping", "payload": {"n": %s}}' % ("9" * 5000),
    ],
)
async def test_a_malformed_message_closes_a_transport_socket_with_4400(
    live: str, api: Api, message: Any
) -> None:
    async with graphql_socket(live) as socket:
        await socket.init(api.token())
        await (socket.ws.send(message) if isinstance(message, str) else socket.send(message))
        assert await socket.closed_with() == 4400


VALUES: list[Any] = [None, 1, 1.5, True, "x", LONG, [], [1], {}, {"a": 1}]
QUERY = "{ me { roles } }"


def any_shape(protocol: str) -> Iterator[dict[str, Any]]:
    """Messages with a value of every JSON type in each field (the legacy connection_init
    aside: a second one is refused by closing, tests/test_ws_auth.py)."""
    start = "subscribe" if protocol == TRANSPORT_WS else "start"
    stop = "complete" if protocol == TRANSPORT_WS else "stop"
    others = ["ping", "pong"] if protocol == TRANSPORT_WS else ["connection_terminate"]
    for value in VALUES:
        yield {"type": value, "id": "1", "payload": {"query": QUERY}}
        yield {"type": start, "id": value, "payload": {"query": QUERY}}
        yield {"type": stop, "id": value}
        yield {"type": start, "id": "1", "payload": value}
        for key in ("query", "variables", "operationName", "extensions"):
            yield {"type": start, "id": "1", "payload": {"query": QUERY, key: value}}
        for kind in ["connection_init", *others] if protocol == TRANSPORT_WS else others:
            yield {"type": kind, "payload": value}


async def answered(socket: GraphQLSocket) -> tuple[list[dict[str, Any]], int | None]:
    """The frames up to the answer to a probe sent after the message (a pong, or the probe
    operation's result), or up to the close: the frames and the close code."""
    if socket.protocol == TRANSPORT_WS:
        await socket.send({"type": "ping"})
    else:
        await socket.send({"type": "start", "id": "probe", "payload": {"query": QUERY}})
    frames: list[dict[str, Any]] = []
    try:
        while True:
            frame = json.loads(await asyncio.wait_for(socket.ws.recv(), 10))
            frames.append(frame)
            if frame["type"] == "pong" or frame.get("id") == "probe":
                return frames, None
    except ConnectionClosed as closed:
        return frames, closed.rcvd.code if closed.rcvd else None


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_message_of_any_shape_never_fails_the_connection(
    live: str, api: Api, protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Each is answered as the protocol says (graphql-transport-ws: 4400, or a second init
    4429; graphql-ws: a coded error), never by a failed connection (no close code, 1011)
    or a traceback in the log."""
    allowed = {None, 4400, 4429} if protocol == TRANSPORT_WS else {None, 1000}
    with caplog.at_level(logging.ERROR):
        for message in any_shape(protocol):
            async with graphql_socket(live, protocol) as socket:
                await socket.init(api.token())
                await socket.send(message)
                frames, closed = await answered(socket)
            assert closed in allowed, (message, closed, frames)
            errors = [f["payload"] for f in frames if f["type"] == "error"]
            for error in [
                e
                for payload in errors
                for e in (payload if isinstance(payload, list) else [payload])
            ]:
                assert error["extensions"]["code"], (message, error)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_legacy_init_payload_that_is_not_an_object_is_a_coded_refusal(live: str) -> None:
    async with graphql_socket(live, LEGACY_WS) as socket:
        await socket.send({"type": "connection_init", "payload": "token"})
        refused = await socket.receive()
    assert refused["type"] == "connection_error"
    assert refused["payload"]["extensions"]["code"] == "BAD_USER_INPUT"
