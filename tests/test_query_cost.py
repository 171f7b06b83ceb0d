"""The query cost limit (resolvers/query_cost.py): how operations are costed, refused over
MAX_QUERY_COST before any SQL, and how every response reports its cost."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import parse

from app.internals import graphql_schema
from app.settings import Settings
from bench.run import COMPANY_PAGE
from resolvers.cost_formula import COUNT_LIMIT, PageSizes, evaluate
from resolvers.query_cost import document_costs
from resolvers.schema import build_schema
from tests.conftest import Api, StatementCounter, error_codes, record_full_runs, serving
from tests.live import LEGACY_WS, TRANSPORT_WS, graphql_socket

LIMIT = Settings.model_fields["max_query_cost"].default
# The issue's example: 200 companies x 200 contacts x 200 activities (8 million rows).
THREE_DEEP = """{ companies(first: 200) { edges { node {
  contacts(first: 200) { edges { node {
    activities(first: 200) { edges { node { id subject } } } } } } } } } }"""


def connection(n: int, node: int = 0) -> int:
    """A connection (1) > edges (n) > node (1), each node's own selection costing `node`."""
    return 1 + n * (1 + 1 + node)


THREE_DEEP_COST = connection(200, connection(200, connection(200)))  # 16,120,601
NESTED = """query($n: Int) { companies(first: $n) { edges { node {
  contacts(first: $n) { edges { node { owners(first: $n) { role } } } } } } } }"""


# Costs far beyond 64 bits: literals, a variable, and lists nested two dozen deep (at their
# default page size, past the depth limit too).
HUGE_LITERALS = """{ companies(first: 2000000000) { edges { node {
  contacts(first: 2000000000) { edges { node {
    activities(first: 2000000000) { edges { node { id } } } } } } } } } }"""


def nested_deals(depth: int, activities: str = "activities") -> str:
    """deals > edges > node, then `depth` times activities > edges > node > deal."""
    inner = f"{activities} {{ edges {{ node {{ deal {{ " * depth + "id" + " } } } }" * depth
    return f"{{ deals(first: 1) {{ edges {{ node {{ {inner} }} }} }} }}"


DEEP = nested_deals(12)
BEYOND_COUNTING = [(HUGE_LITERALS, {}), (NESTED, {"n": 1e300}), (NESTED, {"n": 10**18}), (DEEP, {})]


def nested_cost(n: int) -> int:
    """companies > edges (n) > node > contacts > edges (n) > node > owners (n): each object
    counts 1."""
    return connection(n, connection(n, n))


def cost_of(response: dict[str, Any]) -> int:
    cost: int = response["extensions"]["cost"]
    return cost


async def test_three_nested_lists_at_the_cap_are_refused_before_any_sql(
    api: Api, sql: StatementCounter, compiled_sql: StatementCounter
) -> None:
    await api.data("{ me { roles } }")  # the caller is provisioned (that writes) beforehand
    sql.statements.clear()
    compiled_sql.statements.clear()
    refused = await api(THREE_DEEP)
    assert sql.count == 0 and compiled_sql.count == 0
    [error] = refused["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert f"{THREE_DEEP_COST}" in error["message"] and f"{LIMIT}" in error["message"]
    assert error["extensions"]["cost"] == THREE_DEEP_COST
    assert error["extensions"]["maxCost"] == LIMIT
    assert refused.get("data") is None
    assert cost_of(refused) == THREE_DEEP_COST


async def test_the_bench_company_pages_pass_with_room_to_spare(api: Api) -> None:
    """S1-S3: companies with contacts (their e-mails, phones, owners with users) and deals
    (stage, owners with users); nested lists at their default of 50, e-mails and phones at
    the most a record holds (20)."""
    contact = 20 + 20 + 50 * (1 + 1)  # beyond the contact itself
    deal = 1 + 50 * (1 + 1)
    company = 1 + connection(50, contact) + connection(50, deal)
    for first in (10, 50, 200):
        response = await api(COMPANY_PAGE, {"first": first})
        assert "errors" not in response, response["errors"]
        assert cost_of(response) == 1 + first * (1 + company)
        assert 2 * cost_of(response) <= LIMIT


async def test_page_size_variables_are_costed_with_the_requests_values(api: Api) -> None:
    """The same document, validated once, is cheap with one value and refused with another."""
    small = await api(NESTED, {"n": 10})
    assert "errors" not in small and cost_of(small) == nested_cost(10)
    refused = await api(NESTED, {"n": 200})
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert cost_of(refused) == nested_cost(200) > LIMIT
    # Not sent: the variable's default, else the argument's (a connection's: 50)
    with_default = NESTED.replace("$n: Int", "$n: Int = 3")
    assert cost_of(await api(with_default)) == nested_cost(3)
    assert cost_of(await api(NESTED)) == nested_cost(50)


async def test_fragments_are_costed_where_they_are_spread(api: Api) -> None:
    fragments = """{ companies(first: 200) { ...Page } }
      fragment Page on CompanyConnection { edges { node { ... on Company { ...People } } } }
      fragment People on Company { contacts(first: 200) { edges { node {
        activities(first: 200) { edges { node { id } } } } } } }"""
    refused = await api(fragments)
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert cost_of(refused) == THREE_DEEP_COST
    twice = (
        "{ companies(first: 2) { ...E ...E } } fragment E on CompanyConnection { edges { cursor } }"
    )
    assert cost_of(await api(twice)) == 1 + 2 * 2  # each spread counts


async def test_lists_without_first_count_their_bound_and_scalars_count_nothing(api: Api) -> None:
    query = """{ pipelines(first: 3) { totalCount pageInfo { hasNextPage } edges { node {
      name stages { name } summary { total { amount } } } } } }"""
    stage_bound, cap = 30, Settings.model_fields["max_page_size"].default
    node = 1 + stage_bound + stage_bound * (1 + cap)  # summary: one per stage
    assert cost_of(await api(query)) == 1 + 1 + 3 * (1 + node)
    assert cost_of(await api("{ me { roles } industries { id } }")) == 1 + cap
    introspection = "{ __schema { types { name fields { name args { name } } } } }"
    answer = await api(introspection)  # GraphiQL's introspection costs nothing
    assert "errors" not in answer and cost_of(answer) == 0


async def test_mutations_are_costed_and_refused_over_the_limit_without_writing(api: Api) -> None:
    created = await api('mutation { createCompany(input: {name: "A"}) { id owners { role } } }')
    assert "errors" not in created and cost_of(created) == 1 + 50
    costly = """mutation { createCompany(input: {name: "B"}) { contacts(first: 200) {
      edges { node { deals(first: 200) { edges { node { owners(first: 200) { role } } } } } } } } }"""
    refused = await api(costly)
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert cost_of(refused) == 1 + connection(200, connection(200, 200))
    count = await api("{ companies { totalCount } }")
    assert count["data"]["companies"]["totalCount"] == 1


async def test_every_response_reports_its_cost(api: Api) -> None:
    query = "{ companies(first: 5) { edges { node { name } } } }"
    assert cost_of(await api(query)) == 1 + 5 * 2
    by_get = await api.client.get(
        "/graphql", params={"query": query}, headers={"authorization": f"Bearer {api.token()}"}
    )
    assert cost_of(by_get.json()) == 1 + 5 * 2
    failed = await api("{ companies(first: 500) { edges { node { name } } } }")
    assert error_codes(failed) == ["BAD_USER_INPUT"]  # the resolver's page-size limit
    assert cost_of(failed) == 1 + 500 * 2
    invalid = await api("{ companies(first: 5) { edges { node { nmae } } } }")
    assert error_codes(invalid) == ["GRAPHQL_VALIDATION_FAILED"]
    assert cost_of(invalid) == 1 + 5 * 2


async def test_the_limit_is_a_setting_and_a_cost_at_the_limit_runs(
    settings: Settings, api: Api
) -> None:
    query = "{ companies(first: 7) { edges { node { id } } } }"  # 15
    async with serving(settings.model_copy(update={"max_query_cost": 15})) as http:
        limited = Api(http, api.tokens, api.tenant)
        at_the_limit = await limited(query)
        refused = await limited(query.replace("7", "8"))
    assert "errors" not in at_the_limit and cost_of(at_the_limit) == 15
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert refused["errors"][0]["extensions"]["maxCost"] == 15


@pytest.fixture
async def compiled_api(api: Api, settings: Settings) -> AsyncIterator[Api]:
    async with serving(settings.model_copy(update={"compiled_execution": "on"})) as client:
        yield Api(client, api.tokens, api.tenant)


async def test_compiled_answers_report_their_cost_and_keep_the_limit(
    compiled_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    await compiled_api.data('mutation { createCompany(input: {name: "Firma"}) { id } }')
    full_runs = record_full_runs(monkeypatch)
    answers = [await compiled_api(NESTED, {"n": 2}) for _ in range(3)]
    assert full_runs == [NESTED]  # the later two were answered from the admitted plan
    assert all("errors" not in a and cost_of(a) == nested_cost(2) for a in answers)
    assert answers[1] == answers[0]
    # Admitted with one value, the document is still refused with a costlier one.
    refused = await compiled_api(NESTED, {"n": 200})
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert cost_of(refused) == nested_cost(200)
    assert full_runs == [NESTED, NESTED]
    assert cost_of(await compiled_api(NESTED, {"n": 3})) == nested_cost(3)
    assert full_runs == [NESTED, NESTED]


async def test_subscriptions_are_costed_over_the_websocket(api: Api, live: str) -> None:
    costly = """subscription { dealChanged(pipelineId: "1") { deal {
      activities(first: 2000000000) { edges { node { deal {
        activities(first: 2000000000) { edges { node { id } } } } } } } } } }"""
    events = "subscription { crmEvents { id type actor { name } } }"
    async with graphql_socket(live) as socket:
        await socket.init(api.token())
        await socket.subscribe(costly)
        refusal = await socket.receive()
        assert refusal["type"] == "error", refusal
        assert refusal["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert refusal["payload"][0]["extensions"]["cost"] > LIMIT
        await socket.subscribe(events)
        for attempt in range(10):  # live once it delivers: make events until one arrives
            await api.data(f'mutation {{ createCompany(input: {{name: "E{attempt}"}}) {{ id }} }}')
            try:
                message = await socket.receive(wait=1)
                break
            except TimeoutError:
                continue
        assert message["type"] == "next", message
        assert message["payload"]["extensions"] == {"cost": 2}


@pytest.mark.parametrize(("query", "variables"), BEYOND_COUNTING)
async def test_a_cost_beyond_counting_is_refused_with_a_number_any_client_reads(
    api: Api, query: str, variables: dict[str, Any]
) -> None:
    """It was a masked 500: orjson cannot write an integer over 64 bits."""
    response = await api.post({"query": query, "variables": variables}, token=api.token())
    assert response.status_code == 200, response.text
    refused = response.json()
    depth_limit = "GRAPHQL_VALIDATION_FAILED"  # DEEP meets the depth limit first
    assert error_codes(refused) == [depth_limit if query == DEEP else "BAD_USER_INPUT"]
    assert cost_of(refused) == COUNT_LIMIT
    if query != DEEP:  # that one meets the depth limit first
        assert "beyond counting" in refused["errors"][0]["message"]
        assert refused["errors"][0]["extensions"]["cost"] == COUNT_LIMIT


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_cost_beyond_counting_is_refused_over_the_websocket(
    api: Api, live: str, protocol: str
) -> None:
    """The frame could not be written: the operation's task failed and nothing came."""
    async with graphql_socket(live, protocol) as socket:
        await socket.init(api.token())
        await socket.subscribe(HUGE_LITERALS)
        refusal = await socket.receive()
        await socket.subscribe("{ me { roles } }")
        assert await socket.next_data() == {"me": {"roles": ["admin"]}}
    assert refusal["type"] == "error", refusal
    payload = refusal["payload"]
    [error] = payload if protocol == TRANSPORT_WS else [payload]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["cost"] == COUNT_LIMIT


def test_counting_saturates_instead_of_growing_big_integers(settings: Settings) -> None:
    """A page-size variable with thousands of digits (a transport may deliver one) and ninety
    nested lists: the cost stops at COUNT_LIMIT, every product along the way too."""
    schema = graphql_schema(build_schema(settings))
    sizes = PageSizes(settings.default_page_size, settings.max_page_size)
    nested = nested_deals(45, "activities(first: $n)").replace("first: 1", "first: $n")
    document = parse("query($n: Int) " + nested)
    expression = document_costs(schema, document, sizes).of(None)
    assert expression is not None
    assert evaluate(expression, {"n": int("9" * 4000)}) == COUNT_LIMIT
    assert evaluate(expression, {"n": 1.5e300}) == COUNT_LIMIT
    assert evaluate(expression, {"n": 0}) == 1  # the connection itself
    literal = parse(nested.replace("$n", "9" * 5000))  # past Python's 4,300-digit conversion
    assert evaluate(document_costs(schema, literal, sizes).of(None) or 0, None) == COUNT_LIMIT


BACKWARD = """query($f: Int, $l: Int) { companies(first: $f, last: $l) { edges { node {
  contacts(first: 200) { edges { node { id } } } } } } }"""


def backward_cost(n: int) -> int:
    """companies > edges (n) > node > contacts > edges (200) > node."""
    return connection(n, connection(200))


async def test_last_is_costed_like_first(api: Api) -> None:
    """A page from the list's end holds as many objects as one from its start: `last: 200`
    costs what `first: 200` costs, literal or variable, and is refused over the limit alike."""
    refused = await api(THREE_DEEP.replace("companies(first: 200)", "companies(last: 200)"))
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert cost_of(refused) == THREE_DEEP_COST
    assert cost_of(await api(BACKWARD, {"l": 3})) == backward_cost(3)
    assert cost_of(await api(BACKWARD, {"l": 3, "f": None})) == backward_cost(3)
    assert cost_of(await api(BACKWARD, {"l": None, "f": 4})) == backward_cost(4)
    assert cost_of(await api(BACKWARD, {"l": 200})) == backward_cost(200)
    assert cost_of(await api(BACKWARD)) == backward_cost(50)  # neither: the default page
    # both (the resolver refuses that): the larger
    assert cost_of(await api(BACKWARD, {"l": 2, "f": 7})) == backward_cost(7)
    with_default = BACKWARD.replace("$l: Int", "$l: Int = 5")
    assert cost_of(await api(with_default)) == backward_cost(5)
    mixed = "query($l: Int) { companies(first: 2, last: $l) { edges { cursor } } }"
    assert cost_of(await api(mixed, {"l": 9})) == 1 + 9
    assert cost_of(await api(mixed)) == 1 + 2
    small = await api("{ companies(last: 2) { edges { cursor } } }")
    assert "errors" not in small and cost_of(small) == 1 + 2
