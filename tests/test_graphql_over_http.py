"""GraphQL over HTTP, over real HTTP (uvicorn on 127.0.0.1): the response's media type from
`Accept`, the status codes of each media type, 405 for a mutation over GET, the choice of the
operation, the codes of syntax and validation errors, gzip; on strawberry's view and on the
compiled path's `_answer_admitted` alike (app/web/graphql_over_http.py)."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from app.settings import Settings
from app.web.asgi import create_app
from app.web.graphql_over_http import GRAPHQL_RESPONSE, JSON, negotiated
from tests.conftest import Api, Tokens, error_codes, record_full_runs
from tests.live import LEGACY_WS, graphql_socket, uvicorn_serving

PREFERS_NEW = f"{GRAPHQL_RESPONSE}, {JSON};q=0.9"  # what the spec tells clients to send
COUNT = "{ companies { totalCount } }"


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (JSON, JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (PREFERS_NEW, GRAPHQL_RESPONSE),
        (f"{JSON}, {GRAPHQL_RESPONSE}", JSON),  # a tie: the one listed first
        (f"{JSON};q=0.5, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"*/*, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),  # named beats a wildcard of equal q
        (f"{GRAPHQL_RESPONSE};q=0, */*", JSON),  # q=0: not acceptable
        (f"{JSON};q=0, */*", GRAPHQL_RESPONSE),
        ("APPLICATION/GRAPHQL-RESPONSE+JSON; charset=utf-8", GRAPHQL_RESPONSE),
        ("text/html", None),
        ("text/html, application/xml;q=0.9", None),
        (f"{JSON};q=0", None),
        (f"{JSON};q=zero, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),  # a malformed element: left out
        ("garbage", None),
    ],
)
def test_the_media_type_follows_the_accept_header(accept: str, chosen: str | None) -> None:
    assert negotiated(accept) == chosen


@pytest.fixture
async def http(live: str, api: Api) -> AsyncIterator[httpx.AsyncClient]:
    """A real HTTP client of the session's server (verify mode: strawberry's view answers)."""
    headers = {"authorization": f"Bearer {api.token()}"}
    async with httpx.AsyncClient(base_url=f"http://{live}", headers=headers) as client:
        yield client


async def post(client: httpx.AsyncClient, body: Any, accept: str | None) -> httpx.Response:
    headers = {} if accept is None else {"accept": accept}
    return await client.post("/graphql", json=body, headers=headers)


def content_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0]


async def test_a_client_that_prefers_graphql_response_json_gets_it(
    http: httpx.AsyncClient,
) -> None:
    answered = await post(http, {"query": "{ me { roles } }"}, PREFERS_NEW)
    assert answered.status_code == 200
    assert answered.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert answered.json()["data"] == {"me": {"roles": ["admin"]}}
    assert "Accept" in answered.headers["vary"]
    for legacy in (None, "*/*", JSON):
        assert content_type(await post(http, {"query": "{ me { roles } }"}, legacy)) == JSON


async def test_an_accept_header_that_allows_neither_type_is_406(http: httpx.AsyncClient) -> None:
    refused = await post(http, {"query": 'mutation { createCompany(input: {name: "X"}) { id } }'},
                         "text/html")  # fmt: skip
    assert refused.status_code == 406
    assert content_type(refused) == JSON
    assert error_codes(refused.json()) == ["BAD_USER_INPUT"]
    assert "Accept" in refused.json()["errors"][0]["message"]
    assert (await post(http, {"query": COUNT}, None)).json()["data"]["companies"] == {
        "totalCount": 0
    }  # nothing ran


# (document, variables, code): each fails before execution
REQUEST_ERRORS = [
    ("{ companies { ", None, "GRAPHQL_PARSE_FAILED"),
    ("{ companies { nope } }", None, "GRAPHQL_VALIDATION_FAILED"),
    ("query($id: ID!) { company(id: $id) { id } }", {"id": None}, "BAD_USER_INPUT"),
    ("query A { me { roles } } query B { __typename }", None, "OPERATION_RESOLUTION_FAILURE"),
]


@pytest.mark.parametrize(("document", "variables", "code"), REQUEST_ERRORS)
async def test_a_request_error_is_400_without_data_in_graphql_response_json(
    http: httpx.AsyncClient, document: str, variables: dict[str, Any] | None, code: str
) -> None:
    body = {"query": document, "variables": variables}
    new = await post(http, body, PREFERS_NEW)
    assert new.status_code == 400
    assert content_type(new) == GRAPHQL_RESPONSE
    assert "data" not in new.json()
    assert error_codes(new.json()) == [code]
    legacy = await post(http, body, JSON)  # the legacy type: 200 for any GraphQL error
    assert legacy.status_code == 200
    assert content_type(legacy) == JSON
    assert legacy.json()["data"] is None
    assert error_codes(legacy.json()) == [code]


async def test_an_operation_with_field_errors_is_200_in_both_types(
    http: httpx.AsyncClient,
) -> None:
    partial = {"query": f'{{ me {{ roles }} company(id: "{uuid.uuid4()}") {{ id }} }}'}
    for accept in (PREFERS_NEW, JSON):
        answered = await post(http, partial, accept)
        assert answered.status_code == 200
        assert answered.json()["data"]["me"] == {"roles": ["admin"]}
        assert error_codes(answered.json()) == ["NOT_FOUND"]


async def test_a_malformed_request_is_400_in_both_types(http: httpx.AsyncClient) -> None:
    for body in ({"query": "{ __typename }", "operationName": 7}, {"query": 7}, {"qeury": "{}"}):
        for accept in (PREFERS_NEW, JSON, None):
            assert (await post(http, body, accept)).status_code == 400


async def test_several_operations_need_an_operation_name(http: httpx.AsyncClient) -> None:
    """The first operation ran when no name was sent; now nothing runs."""
    document = 'mutation A { createCompany(input: {name: "Erste"}) { id } } query B { __typename }'
    refused = await post(http, {"query": document}, PREFERS_NEW)
    assert error_codes(refused.json()) == ["OPERATION_RESOLUTION_FAILURE"]
    assert "operationName" in refused.json()["errors"][0]["message"]
    unknown = await post(http, {"query": document, "operationName": "C"}, PREFERS_NEW)
    assert (unknown.status_code, error_codes(unknown.json())) == (
        400,
        ["OPERATION_RESOLUTION_FAILURE"],
    )
    unknown = await post(http, {"query": document, "operationName": "C"}, JSON)
    assert (unknown.status_code, error_codes(unknown.json())) == (
        200,
        ["OPERATION_RESOLUTION_FAILURE"],
    )
    assert (await post(http, {"query": COUNT}, None)).json()["data"]["companies"] == {
        "totalCount": 0
    }
    named = await post(http, {"query": document, "operationName": "B"}, PREFERS_NEW)
    assert named.json() == {"data": {"__typename": "Query"}, "extensions": {"cost": 0}}


async def test_a_mutation_over_get_is_405_with_allow(http: httpx.AsyncClient) -> None:
    for accept in (PREFERS_NEW, JSON):
        refused = await http.get(
            "/graphql",
            params={"query": 'mutation { createCompany(input: {name: "Per GET"}) { id } }'},
            headers={"accept": accept},
        )
        assert refused.status_code == 405
        assert refused.headers["allow"] == "POST"
        assert error_codes(refused.json()) == ["BAD_USER_INPUT"]
    other = await http.put("/graphql", json={"query": COUNT})
    assert (other.status_code, other.headers["allow"]) == (405, "GET, POST")
    count = await http.get("/graphql", params={"query": COUNT, "operationName": ""})
    assert count.json()["data"]["companies"] == {"totalCount": 0}  # "" is no name (GET)


async def test_validation_and_operation_errors_carry_their_codes_over_websocket(
    live: str, api: Api
) -> None:
    async with graphql_socket(live) as socket:
        await socket.init(api.token())
        for document, code in [
            ("subscription { crmEvents { nope } }", "GRAPHQL_VALIDATION_FAILED"),
            ("subscription A { crmEvents { type } } subscription B { crmEvents { id } }",
             "OPERATION_RESOLUTION_FAILURE"),
        ]:  # fmt: skip
            await socket.subscribe(document)
            message = await socket.receive()
            assert message["type"] == "error", message
            assert [e["extensions"]["code"] for e in message["payload"]] == [code]
    async with graphql_socket(live, LEGACY_WS) as socket:  # graphql-transport-ws closes (4400)
        await socket.init(api.token())
        named = {"query": "subscription A { crmEvents { type } }", "operationName": "C"}
        await socket.send({"id": "unknown", "type": "start", "payload": named})
        message = await socket.receive()
        assert message["type"] == "error", message
        assert message["payload"]["extensions"]["code"] == "OPERATION_RESOLUTION_FAILURE"


async def seed_companies(api: Api, count: int) -> None:
    for index in range(count):
        name = f"Handelsgesellschaft für Maschinen und Anlagen Nummer {index:03} GmbH & Co. KG"
        await api.data(
            "mutation($n: String!) { createCompany(input: {name: $n}) { id } }", {"n": name}
        )


BIG_PAGE = "{ companies(first: 40) { edges { cursor node { id name status } } } }"


async def test_large_answers_are_gzipped_small_ones_not(http: httpx.AsyncClient, api: Api) -> None:
    await seed_companies(api, 30)
    plain = await http.post("/graphql", json={"query": BIG_PAGE},
                            headers={"accept-encoding": "identity"})  # fmt: skip
    assert "content-encoding" not in plain.headers
    assert len(plain.content) > 2048
    for accept in (PREFERS_NEW, JSON):
        async with http.stream(
            "POST", "/graphql", json={"query": BIG_PAGE},
            headers={"accept-encoding": "gzip", "accept": accept},
        ) as zipped:  # fmt: skip
            raw = b"".join([chunk async for chunk in zipped.aiter_raw()])
        assert zipped.headers["content-encoding"] == "gzip"
        assert content_type(zipped) == (JSON if accept == JSON else GRAPHQL_RESPONSE)
        assert len(raw) < len(plain.content) / 3
        assert orjson.loads(gzip.decompress(raw)) == plain.json()
    small = await http.post("/graphql", json={"query": COUNT}, headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in small.headers


@pytest.fixture
async def compiled_host(settings: Settings) -> AsyncIterator[str]:
    """A server in production mode (compiled execution "on"): a document the compiled path
    answered once is answered again by `_answer_admitted`, without strawberry's view."""
    application = create_app(settings.model_copy(update={"compiled_execution": "on"}))
    async with (
        application.router.lifespan_context(application),
        uvicorn_serving(application) as host,
    ):
        yield host


async def test_the_compiled_fast_path_follows_the_same_rules(
    compiled_host: str, api: Api, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_companies(api, 30)
    headers = {"authorization": f"Bearer {api.token()}", "accept-encoding": "gzip"}
    async with httpx.AsyncClient(base_url=f"http://{compiled_host}", headers=headers) as client:
        full_runs = record_full_runs(monkeypatch)
        first = await post(client, {"query": BIG_PAGE}, PREFERS_NEW)
        assert full_runs == [BIG_PAGE]
        for accept in (PREFERS_NEW, JSON):
            async with client.stream(
                "POST", "/graphql", json={"query": BIG_PAGE}, headers={"accept": accept}
            ) as again:
                raw = b"".join([chunk async for chunk in again.aiter_raw()])
            assert full_runs == [BIG_PAGE]  # the fast path answered
            assert again.status_code == 200
            assert again.headers["content-encoding"] == "gzip"
            assert content_type(again) == (JSON if accept == JSON else GRAPHQL_RESPONSE)
            assert "Accept" in again.headers["vary"]
            assert orjson.loads(gzip.decompress(raw)) == first.json()
        refused = await post(client, {"query": BIG_PAGE}, "text/plain")
        assert refused.status_code == 406
        assert full_runs == [BIG_PAGE]
