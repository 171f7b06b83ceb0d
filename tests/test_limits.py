"""Abuse limits and transport rules of /graphql."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import event
from starlette.applications import Starlette

from app.services.companies import queries as companies_queries
from app.settings import Settings
from tests.conftest import Api, Tokens, error_codes, serving

COUNT = "{ companies { totalCount } }"


async def test_query_deeper_than_the_limit_is_refused(
    settings: Settings, tokens: Tokens, tenant: str
) -> None:
    # Today's schema is shallower than the default limit of 10, so serve it with a limit of 3.
    headers = {"authorization": f"Bearer {tokens.make(tenant)}"}
    async with serving(settings.model_copy(update={"max_query_depth": 3})) as http:
        deep = "{ companies { edges { node { billingAddress { city } } } } }"
        refused = (await http.post("/graphql", json={"query": deep}, headers=headers)).json()
        shallow = "{ companies { edges { cursor } } }"
        allowed = (await http.post("/graphql", json={"query": shallow}, headers=headers)).json()
    assert error_codes(refused) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "exceeds maximum operation depth" in refused["errors"][0]["message"]
    assert "data" not in refused or refused["data"] is None
    assert "errors" not in allowed


async def test_too_many_aliases_are_refused(api: Api) -> None:
    aliases = " ".join(f"a{i}: companies {{ totalCount }}" for i in range(31))
    result = await api(f"{{ {aliases} }}")
    assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "aliases" in result["errors"][0]["message"]


async def test_aliases_within_the_limit_run(api: Api) -> None:
    aliases = " ".join(f"a{i}: companies {{ totalCount }}" for i in range(5))
    assert "errors" not in await api(f"{{ {aliases} }}")


async def test_too_many_tokens_are_refused(api: Api) -> None:
    fields = " ".join("totalCount" for _ in range(2100))
    result = await api(f"{{ companies {{ {fields} }} }}")
    assert error_codes(result) == ["GRAPHQL_PARSE_FAILED"]  # graphql-core aborts the parse
    assert "tokens" in result["errors"][0]["message"]


async def test_mutation_over_get_is_refused(api: Api) -> None:
    response = await api.client.get(
        "/graphql",
        params={"query": 'mutation { createCompany(input: {name: "Via GET"}) { id } }'},
        headers={"authorization": f"Bearer {api.token()}"},
    )
    assert response.status_code == 405  # GraphQL over HTTP (tests/test_graphql_over_http.py)
    assert response.headers["allow"] == "POST"
    body = response.json()
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "GET" in body["errors"][0]["message"]
    assert (await api.data(COUNT))["companies"]["totalCount"] == 0


async def test_query_over_get_is_allowed(api: Api) -> None:
    response = await api.client.get(
        "/graphql", params={"query": COUNT}, headers={"authorization": f"Bearer {api.token()}"}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"companies": {"totalCount": 0}}, "extensions": {"cost": 1}}


async def test_non_json_content_type_is_refused(api: Api) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        response = await api.client.post(
            "/graphql",
            content=b'{"query": "{ companies { totalCount } }"}',
            headers={"authorization": f"Bearer {api.token()}", "content-type": content_type},
        )
        assert response.status_code == 415, content_type
        assert error_codes(response.json()) == ["BAD_USER_INPUT"]


async def test_oversized_body_is_refused(api: Api) -> None:
    padding = "x" * 1_100_000
    response = await api.post({"query": COUNT, "variables": {"pad": padding}}, token=api.token())
    assert response.status_code == 413


async def test_oversized_streamed_body_without_length_is_refused(api: Api) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ companies { totalCount } }", "variables": {"pad": "'
        for _ in range(20):
            yield b"x" * 100_000
        yield b'"}}'

    response = await api.client.post(
        "/graphql",
        content=chunks(),
        headers={"authorization": f"Bearer {api.token()}", "content-type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


async def test_aliased_lists_cannot_take_the_connection_pool(app: Starlette, api: Api) -> None:
    engine = app.state.runtime.engine.sync_engine
    checked_out = peak = 0

    def on_checkout(*_: object) -> None:
        nonlocal checked_out, peak
        checked_out += 1
        peak = max(peak, checked_out)

    def on_checkin(*_: object) -> None:
        nonlocal checked_out
        checked_out -= 1

    await api.data("{ me { roles } }")  # provision the caller first
    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "checkin", on_checkin)
    try:
        aliases = " ".join(f"a{i}: companies(first: 200) {{ totalCount }}" for i in range(30))
        assert "errors" not in await api(f"{{ {aliases} }}")
    finally:
        event.remove(engine, "checkout", on_checkout)
        event.remove(engine, "checkin", on_checkin)
    assert 1 <= peak <= app.state.runtime.settings.max_sessions_per_request


async def test_malformed_json_is_a_clear_error(api: Api) -> None:
    response = await api.client.post(
        "/graphql",
        content=b'{"query": ',
        headers={"authorization": f"Bearer {api.token()}", "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "body",
    [
        b"null",  # these two were a masked 500
        b"1",
        b"[]",
        b'[{"query": "{ me { roles } }"}]',
        b'{"query": "{ me { roles } }", "variables": {"n": %s}}' % (b"9" * 5000),  # a 500 too
        b'{"query": "{ me { roles } }", "operationName": "\xff"}',  # not UTF-8: a 500 too
    ],
)
async def test_a_body_that_is_no_json_object_is_a_clear_error(api: Api, body: bytes) -> None:
    response = await api.client.post(
        "/graphql",
        content=body,
        headers={"authorization": f"Bearer {api.token()}", "content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_subscription_over_http_is_told_to_use_the_websocket(api: Api, method: str) -> None:
    """It ran as a query and failed with a masked INTERNAL_SERVER_ERROR and a traceback."""
    query = "subscription { crmEvents { type } }"
    headers = {"authorization": f"Bearer {api.token()}"}
    if method == "POST":
        response = await api.post({"query": query}, token=api.token())
    else:
        response = await api.client.get("/graphql", params={"query": query}, headers=headers)
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "WebSocket" in error["message"]
    for variables in ("1", "[]"):  # GET's variables that are no object: refused as well
        refused = await api.client.get(
            "/graphql",
            params={"query": "{ me { roles } }", "variables": variables},
            headers=headers,
        )
        assert refused.status_code == 400 and error_codes(refused.json()) == ["BAD_USER_INPUT"]


async def test_syntax_error_has_a_code(api: Api) -> None:
    result = await api("{ companies { ")
    assert error_codes(result) == ["GRAPHQL_PARSE_FAILED"]


async def test_page_size_is_capped(api: Api) -> None:
    result = await api("{ companies(first: 201) { totalCount } }")
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert "first" in result["errors"][0]["extensions"]["fields"][0]["field"]


async def test_a_bad_value_deep_in_a_variable_names_its_path(api: Api) -> None:
    result = await api(
        "mutation($input: CreateCompanyInput!) { createCompany(input: $input) { id } }",
        {"input": {"name": "Pfad GmbH", "emails": [{"email": 5}]}},
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]
    [problem] = result["errors"][0]["extensions"]["fields"]
    assert problem["field"] == "input.emails[0].email"


async def test_graphiql_page_is_served_to_browsers(api: Api) -> None:
    response = await api.client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_unexpected_errors_are_masked_with_a_request_id(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise KeyError("internal detail")

    monkeypatch.setattr(companies_queries, "companies_page", broken)
    token = api.token()
    with caplog.at_level(logging.ERROR):
        sent = await api.post({"query": COUNT}, token=token, headers={"x-request-id": "req-7"})
        forged = await api.post({"query": COUNT}, token=token, headers={"x-request-id": "a b;c"})
    [error] = sent.json()["errors"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-7"}
    assert "internal detail" not in sent.text
    assert "req-7" in caplog.text and "internal detail" in caplog.text
    # A request id that is not a plain token is replaced, so it cannot forge log lines.
    assert forged.json()["errors"][0]["extensions"]["requestId"] != "a b;c"


async def test_a_document_is_validated_once_however_often_it_is_sent(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The depth, alias and token limits must not defeat the validation cache (they did when
    each request built its own rule classes)."""
    import strawberry.schema.schema as strawberry_schema

    calls: list[object] = []
    real = strawberry_schema.validate

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "validate", counting)
    query = f"{{ me {{ roles }} probe_{uuid.uuid4().hex[:8]}: me {{ roles }} }}"
    for _ in range(3):
        await api.data(query)
    assert len(calls) == 1
