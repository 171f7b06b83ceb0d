"""Abuse limits and transport rules of /graphql."""

from __future__ import annotations

from app.settings import Settings
from resolvers.schema import build_schema
from tests.conftest import Api, error_codes

COUNT = "{ companies { totalCount } }"


async def test_query_deeper_than_the_limit_is_refused(settings: Settings) -> None:
    # Today's schema is shallower than the default limit of 10, so use a schema built with a
    # limit of 3 from the same code path; validation refuses before anything executes.
    schema = build_schema(settings.model_copy(update={"max_query_depth": 3}))
    deep = "{ companies { edges { node { billingAddress { city } } } } }"
    result = await schema.execute(deep)
    assert result.errors
    assert "exceeds maximum operation depth" in result.errors[0].message
    assert result.data is None
    shallow = await schema.execute("{ companies { edges { cursor } } }")
    assert not any("depth" in e.message for e in shallow.errors or [])


async def test_too_many_aliases_are_refused(api: Api) -> None:
    aliases = " ".join(f"a{i}: companies {{ totalCount }}" for i in range(31))
    result = await api(f"{{ {aliases} }}")
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert "aliases" in result["errors"][0]["message"]


async def test_aliases_within_the_limit_run(api: Api) -> None:
    aliases = " ".join(f"a{i}: companies {{ totalCount }}" for i in range(5))
    assert "errors" not in await api(f"{{ {aliases} }}")


async def test_too_many_tokens_are_refused(api: Api) -> None:
    fields = " ".join("totalCount" for _ in range(2100))
    result = await api(f"{{ companies {{ {fields} }} }}")
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert "tokens" in result["errors"][0]["message"]


async def test_mutation_over_get_is_refused(api: Api) -> None:
    response = await api.client.get(
        "/graphql",
        params={"query": 'mutation { createCompany(input: {name: "Via GET"}) { id } }'},
        headers={"authorization": f"Bearer {api.token()}"},
    )
    assert response.status_code == 400
    body = response.json()
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "GET" in body["errors"][0]["message"]
    assert (await api.data(COUNT))["companies"]["totalCount"] == 0


async def test_query_over_get_is_allowed(api: Api) -> None:
    response = await api.client.get(
        "/graphql", params={"query": COUNT}, headers={"authorization": f"Bearer {api.token()}"}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"companies": {"totalCount": 0}}}


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


async def test_malformed_json_is_a_clear_error(api: Api) -> None:
    response = await api.client.post(
        "/graphql",
        content=b'{"query": ',
        headers={"authorization": f"Bearer {api.token()}", "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]


async def test_syntax_error_has_a_code(api: Api) -> None:
    result = await api("{ companies { ")
    assert error_codes(result) == ["BAD_USER_INPUT"]


async def test_page_size_is_capped(api: Api) -> None:
    result = await api("{ companies(first: 201) { totalCount } }")
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert "first" in result["errors"][0]["extensions"]["fields"][0]["field"]


async def test_graphiql_page_is_served_to_browsers(api: Api) -> None:
    response = await api.client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_unexpected_errors_are_masked(api: Api) -> None:
    # A cursor that decodes to the right shape but an impossible timestamp reaches the
    # database layer's parser; whatever fails, the client must never see a trace.
    result = await api('{ companies(after: "%%%") { totalCount } }')
    assert error_codes(result) == ["BAD_USER_INPUT"]
    for error in result["errors"]:
        assert "Traceback" not in error["message"]
