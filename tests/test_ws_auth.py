"""Who may hold a GraphQL WebSocket open: every refusal, over a real socket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app.settings import Settings
from app.web.asgi import create_app
from tests.conftest import FRONTEND_ORIGIN, Api, Tokens
from tests.live import LEGACY_WS, TRANSPORT_WS, RedisProcess, graphql_socket, uvicorn_serving
from tests.test_health import DEAD_POSTGRES
from tests.test_relay import isolated  # noqa: F401  (a stack whose Redis can be stopped)
from tests.test_subscriptions import CRM_EVENTS


@asynccontextmanager
async def server_with(settings: Settings) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    """Another app (own settings) served on loopback: its host and an HTTP client."""
    application = create_app(settings)
    async with (
        application.router.lifespan_context(application),
        uvicorn_serving(application) as host,
        httpx.AsyncClient(base_url=f"http://{host}") as http,
    ):
        yield host, http


async def test_no_operation_runs_before_connection_init(live: str) -> None:
    async with graphql_socket(live) as socket:
        await socket.subscribe(CRM_EVENTS)
        assert await socket.closed_with() == 4401


async def test_legacy_protocol_runs_no_operation_before_init(live: str) -> None:
    async with graphql_socket(live, LEGACY_WS) as socket:
        await socket.subscribe(CRM_EVENTS)
        assert await socket.closed_with() == 4401


@pytest.mark.parametrize("token", [None, "not-a-jwt"])
async def test_init_without_a_valid_token_is_refused(live: str, token: str | None) -> None:
    async with graphql_socket(live) as socket:
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await socket.send({"type": "connection_init", "payload": payload})
        assert await socket.closed_with() == 4403


async def test_legacy_init_refusal_says_why(live: str, api: Api, tokens: Tokens) -> None:
    expired = tokens.make(api.tenant, exp=int(time.time()) - 3600)
    async with graphql_socket(live, LEGACY_WS) as socket:
        refused = await socket.init(expired)
        assert refused["type"] == "connection_error"
        assert refused["payload"]["code"] == "UNAUTHENTICATED"
        assert refused["payload"]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "expired" in refused["payload"]["message"]


async def test_token_in_the_upgrade_request_header(live: str, api: Api) -> None:
    headers = {"Authorization": f"Bearer {api.token()}"}
    async with graphql_socket(live, additional_headers=headers) as socket:
        assert (await socket.init(None))["type"] == "connection_ack"


async def test_the_socket_closes_when_the_token_expires(
    live: str, api: Api, tokens: Tokens
) -> None:
    short = tokens.make(api.tenant, exp=int(time.time()) + 2)
    async with graphql_socket(live) as socket:
        assert (await socket.init(short))["type"] == "connection_ack"
        await socket.subscribe(CRM_EVENTS)
        assert await socket.closed_with(wait=8) == 4401


async def test_the_socket_closes_when_the_token_is_revoked(settings: Settings, api: Api) -> None:
    quick = settings.model_copy(update={"ws_auth_recheck_seconds": 0.2})
    token = api.token("member")
    async with server_with(quick) as (host, http), graphql_socket(host) as socket:
        assert (await socket.init(token))["type"] == "connection_ack"
        await socket.subscribe(CRM_EVENTS)
        await asyncio.sleep(0.5)
        assert await socket.nothing_within(0.1)  # still open
        logout = await http.post(
            "/graphql",
            json={"query": "mutation { logout }"},
            headers={"authorization": f"Bearer {token}"},
        )
        assert logout.json()["data"] == {"logout": True}
        assert await socket.closed_with(wait=5) == 4401


async def test_a_browser_page_of_another_origin_cannot_connect(live: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with graphql_socket(live, origin="https://evil.example"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403
    async with graphql_socket(live, origin=FRONTEND_ORIGIN) as socket:  # type: ignore[arg-type]
        assert (await socket.send({"type": "connection_init"})) is None


async def test_legacy_protocol_refuses_a_second_init(live: str, api: Api) -> None:
    async with graphql_socket(live, LEGACY_WS) as socket:
        assert (await socket.init(api.token()))["type"] == "connection_ack"
        again = await socket.init(api.token(tenant="other-" + api.tenant))
        assert again["type"] == "connection_error"
        assert again["payload"]["code"] == "BAD_USER_INPUT"
        assert await socket.closed_with() == 1011


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_logout_closes_the_tokens_open_socket_at_once(
    live: str, api: Api, tokens: Tokens, protocol: str
) -> None:
    """Not at the watcher's next look (WS_AUTH_RECHECK_SECONDS, a minute here): the process
    learns of the revocation as it is written."""
    token = tokens.make(api.tenant, "admin")
    other = tokens.make(api.tenant, "admin")
    async with graphql_socket(live, protocol) as socket, graphql_socket(live, protocol) as kept:
        assert (await socket.init(token))["type"] == "connection_ack"
        assert (await kept.init(other))["type"] == "connection_ack"
        logout = await api.post({"query": "mutation { logout }"}, token=token)
        assert logout.json()["data"] == {"logout": True}
        assert await socket.closed_with(wait=5) == 4401
        await kept.subscribe("{ me { roles } }")  # another token's socket stays open
        assert await kept.next_data() == {"me": {"roles": ["admin"]}}


COUNT = "{ companies { totalCount } }"


async def test_while_redis_is_down_socket_mutations_go_on(
    isolated: tuple[Settings, RedisProcess],  # noqa: F811  (the fixture imported above)
    tokens: Tokens,
) -> None:
    """Revocations are checked in the process's view (from PostgreSQL): no Redis needed."""
    own, redis = isolated
    application = create_app(own)
    token = tokens.make("blocklist-down")
    async with (
        application.router.lifespan_context(application),
        uvicorn_serving(application) as host,
        graphql_socket(host, TRANSPORT_WS) as transport,
        graphql_socket(host, LEGACY_WS) as legacy,
    ):
        for socket in (transport, legacy):
            assert (await socket.init(token))["type"] == "connection_ack"
        redis.stop()
        for socket in (transport, legacy):
            await socket.subscribe(CREATE)
            assert (await socket.next_data())["createCompany"]["id"]
            assert (await socket.receive())["type"] == "complete"
            await socket.subscribe("{ me { roles } }")
            assert await socket.next_data() == {"me": {"roles": ["admin"]}}
            assert (await socket.receive())["type"] == "complete"


CREATE = 'mutation { createCompany(input: {name: "x"}) { id } }'


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_connection_init_with_the_database_down_says_try_again_later(
    settings: Settings, tokens: Tokens, tenant: str, protocol: str
) -> None:
    """Not 4403 "Forbidden" (graphql-transport-ws closed so, as for a bad token): 1013 Try
    Again Later with the code; a bad token is still refused with 4403 (graphql-ws: a coded
    connection_error, then the close)."""
    closes: list[tuple[int | None, str]] = []
    frames = []
    async with server_with(settings.model_copy(update={"database_url": DEAD_POSTGRES})) as (
        host,
        _,
    ):
        for token in (tokens.make(tenant), "not-a-jwt"):
            async with graphql_socket(host, protocol) as socket:
                await socket.send(
                    {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
                )
                try:
                    while True:
                        frames.append(await socket.receive())
                except ConnectionClosed as closed:
                    closes.append(
                        (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, "")
                    )
    outage, bad_token = closes
    assert outage[0] == 1013 and outage[1].startswith("SERVICE_UNAVAILABLE: ")
    if protocol == TRANSPORT_WS:
        assert bad_token[0] == 4403 and frames == []
        return
    codes = [(f["type"], f["payload"]["extensions"]["code"]) for f in frames]
    assert [code for _, code in codes] == ["SERVICE_UNAVAILABLE", "UNAUTHENTICATED"]
    assert {kind for kind, _ in codes} == {"connection_error"}


@pytest.mark.parametrize(
    "shape",
    ["authorization", "Authorization", "headers.Authorization", "headers.authorization",
     "authToken", "authToken with Bearer"],
)  # fmt: skip
async def test_connection_init_reads_the_token_where_clients_send_it(
    live: str, api: Api, shape: str
) -> None:
    """graphql-ws and gql send `authorization`; Apollo's and urql's examples pass the HTTP
    headers (`headers.Authorization`); subscriptions-transport-ws apps send a bare `authToken`."""
    token = api.token()
    payload: dict[str, object] = {
        "authorization": {"authorization": f"Bearer {token}"},
        "Authorization": {"Authorization": f"Bearer {token}"},
        "headers.Authorization": {"headers": {"Authorization": f"Bearer {token}"}},
        "headers.authorization": {"headers": {"authorization": f"Bearer {token}"}},
        "authToken": {"authToken": token},
        "authToken with Bearer": {"authToken": f"Bearer {token}"},
    }[shape]
    for protocol in (TRANSPORT_WS, LEGACY_WS):
        async with graphql_socket(live, protocol) as socket:
            await socket.send({"type": "connection_init", "payload": payload})
            assert (await socket.receive())["type"] == "connection_ack", (shape, protocol)


async def test_a_token_in_the_headers_param_that_is_no_token_is_refused(live: str) -> None:
    async with graphql_socket(live) as socket:
        payload = {"headers": {"Authorization": "Bearer not-a-jwt"}}
        await socket.send({"type": "connection_init", "payload": payload})
        assert await socket.closed_with() == 4403


async def test_a_refused_init_closes_with_a_reason_that_says_what_was_wrong(
    live: str, api: Api, tokens: Tokens
) -> None:
    """graphql-transport-ws: 4403 with the refusal's code and message as the close reason
    (strawberry's is a bare "Forbidden"), so a client can tell an expired token from a
    missing one."""
    expired = tokens.make(api.tenant, exp=int(time.time()) - 3600)
    cases = [
        ({}, "UNAUTHENTICATED: Send authorization"),
        ({"authorization": f"Bearer {expired}"}, "expired"),
    ]
    for payload, said in cases:
        async with graphql_socket(live) as socket:
            await socket.send({"type": "connection_init", "payload": payload})
            code, reason = await socket.close_frame()
            assert code == 4403 and said in reason, (code, reason)
