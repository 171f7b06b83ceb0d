"""Several mutations in one document, over real HTTP: every committed result reaches the client
(root Mutation fields are nullable, resolvers/mutation_roots.py), a retry with the same
Idempotency-Key replays that partial answer without running anything again, and each root
field's answer is read after its own write (loaders are fresh per root field)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from graphql import GraphQLNonNull

from app.internals import graphql_schema
from resolvers.schema import build_schema
from tests.conftest import Api, error_codes
from tests.test_deals import deal, pipeline, stage

MISSING = str(uuid.uuid4())
CREATE_THEN_FAIL = f"""mutation($name: String!) {{
  first: createCompany(input: {{name: $name}}) {{ id name }}
  second: updateCompany(id: "{MISSING}", input: {{name: "Nie"}}) {{ id }} }}"""
FAIL_THEN_CREATE = f"""mutation($name: String!) {{
  first: updateCompany(id: "{MISSING}", input: {{name: "Nie"}}) {{ id }}
  second: createCompany(input: {{name: $name}}) {{ id name }} }}"""
NAMED = """query($name: String!) { companies(filter: {search: $name}) { totalCount } }"""


async def post(
    live: str, api: Api, query: str, variables: dict[str, Any], key: str | None = None
) -> httpx.Response:
    headers = {"authorization": f"Bearer {api.token()}"}
    if key is not None:
        headers["idempotency-key"] = key
    async with httpx.AsyncClient(base_url=f"http://{live}", timeout=30) as http:
        return await http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )


def test_every_root_mutation_field_is_nullable() -> None:
    mutation = graphql_schema(build_schema()).mutation_type
    assert mutation is not None
    non_null = [name for name, f in mutation.fields.items() if isinstance(f.type, GraphQLNonNull)]
    assert non_null == []
    assert len(mutation.fields) > 50  # all of them, not an empty type


async def named(api: Api, name: str) -> int:
    count: int = (await api.data(NAMED, {"name": name}))["companies"]["totalCount"]
    return count


async def test_the_first_mutations_committed_answer_survives_the_seconds_failure(
    live: str, api: Api
) -> None:
    response = await post(live, api, CREATE_THEN_FAIL, {"name": "Erste Partial GmbH"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"]["first"]["name"] == "Erste Partial GmbH"
    assert body["data"]["second"] is None
    assert error_codes(body) == ["NOT_FOUND"]
    assert body["errors"][0]["path"] == ["second"]
    stored = await api.data(
        "query($id: ID!) { company(id: $id) { name } }", {"id": body["data"]["first"]["id"]}
    )
    assert stored["company"] == {"name": "Erste Partial GmbH"}


async def test_a_failing_first_mutation_does_not_stop_the_second(live: str, api: Api) -> None:
    response = await post(live, api, FAIL_THEN_CREATE, {"name": "Zweite Partial GmbH"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"]["first"] is None
    assert body["data"]["second"]["name"] == "Zweite Partial GmbH"
    assert error_codes(body) == ["NOT_FOUND"] and body["errors"][0]["path"] == ["first"]
    assert await named(api, "Zweite Partial") == 1


async def test_a_retry_replays_the_partial_answer_and_runs_nothing_again(
    live: str, api: Api
) -> None:
    for query, name in (
        (CREATE_THEN_FAIL, "Wiederholt Eins GmbH"),
        (FAIL_THEN_CREATE, "Wiederholt Zwei GmbH"),
    ):
        key = f"partial-{uuid.uuid4().hex}"
        first = await post(live, api, query, {"name": name}, key)
        again = await post(live, api, query, {"name": name}, key)
        assert error_codes(first.json()) == ["NOT_FOUND"]
        assert again.status_code == first.status_code == 200
        assert again.headers["idempotent-replayed"] == "true"
        assert again.content == first.content  # the same partial answer, the same id
        assert await named(api, name.removesuffix(" GmbH")) == 1  # created once


SUMMARY = "pipeline { id summary { stage { name } dealCount } }"
TWO_MOVES = f"""mutation($a: ID!, $b: ID!, $to: ID!) {{
  a: moveDealToStage(id: $a, stageId: $to) {{ id stage {{ name }} {SUMMARY} }}
  b: moveDealToStage(id: $b, stageId: $to) {{ id stage {{ name }} {SUMMARY} }} }}"""


def counts(moved: dict[str, Any]) -> dict[str, int]:
    return {s["stage"]["name"]: s["dealCount"] for s in moved["pipeline"]["summary"]}


async def test_each_moves_answer_reads_the_pipeline_summary_after_its_own_write(
    api: Api,
) -> None:
    """The first move's answer reads the summary; the second's must not be served that cached
    value (the per-request loaders), but the summary after both moves."""
    board = await pipeline(api)
    one, two = await deal(api), await deal(api)
    assert one["stage"]["name"] == two["stage"]["name"] == "Qualifizierung"
    variables = {"a": one["id"], "b": two["id"], "to": stage(board, "Angebot")}
    data = await api.data(TWO_MOVES, variables)
    assert counts(data["a"])["Qualifizierung"] == 1 and counts(data["a"])["Angebot"] == 1
    assert counts(data["b"]).get("Qualifizierung", 0) == 0 and counts(data["b"])["Angebot"] == 2


async def test_the_query_cost_prices_the_payloads_records(api: Api) -> None:
    """payload 1 x (1 + its email 1 + its company 1 x (1 + 20 e-mails at most)) = 23."""
    company = (await api.data('mutation { createCompany(input: {name: "Kosten GmbH"}) { id } }'))[
        "createCompany"
    ]
    add = """mutation($id: ID!) { addCompanyEmail(companyId: $id, input: {email: "k@x.de"}) {
      email { id } company { emails { id } } } }"""
    result = await api(add, {"id": company["id"]})
    assert "errors" not in result, result["errors"]
    assert result["extensions"]["cost"] == 23
