"""The compiled execution path (resolvers/compiled): which queries it answers, what it costs,
and that its answers are the executor's. The whole suite runs in verify mode, so every query
any test sends is compared as well (conftest.compiled_agrees)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

import resolvers.compiled.extension as compiled_extension
from app.data.pagination import PageQuery
from app.settings import Settings
from app.web.graphql_http import CrmGraphQL
from tests.conftest import Api, StatementCounter, record_full_runs, serving

DEEP = """query($first: Int) { companies(first: $first) { totalCount edges { cursor node {
  id name status tags createdAt industry { name } emails { email isPrimary type } phones { phone }
  owners { role user { id name email } }
  contacts { totalCount edges { cursor node { id firstName lastName birthday company { name }
    emails { email } phones { phone } owners { role createdAt user { id name } } } } }
  deals { edges { node { id title value currency status expectedCloseDate
    stage { name kind probability } pipeline { name } owners { role user { id } } } }
    pageInfo { hasNextPage endCursor } } } }
  pageInfo { hasNextPage endCursor } } }"""


async def seed(api: Api, companies: int) -> str:
    me: str = (await api.data("{ me { user { id } } }"))["me"]["user"]["id"]
    await api.data(
        'mutation { createPipeline(input: {name: "V", stages: [{name: "Neu"}]}) { id } }'
    )
    industry = await api.data('mutation { createIndustry(input: {name: "Handel"}) { id } }')
    for index in range(companies):
        created = await api.data(
            """mutation($n: String!, $i: ID) { createCompany(input: {name: $n, industryId: $i,
              tags: ["a", "b"], emails: [{email: "info@f.de"}]}) { id } }""",
            {
                "n": f"Firma {index:02}",
                "i": industry["createIndustry"]["id"] if index % 2 else None,
            },
        )
        company_id = created["createCompany"]["id"]
        await api.data(
            "mutation($c: ID!, $u: ID!) { addCompanyOwner(companyId: $c, userId: $u) { id } }",
            {"c": company_id, "u": me},
        )
        for person in range(2):
            contact = await api.data(
                """mutation($c: ID!, $n: String!) { createContact(input: {lastName: $n,
                  companyId: $c, birthday: "1980-02-29", emails: [{email: "k@x.de"}],
                  phones: [{phone: "+49 30 1234567"}]}) { id } }""",
                {"c": company_id, "n": f"K{person}"},
            )
            await api.data(
                "mutation($c: ID!, $u: ID!) { addContactOwner(contactId: $c, userId: $u) { id } }",
                {"c": contact["createContact"]["id"], "u": me},
            )
            await api.data(
                """mutation($c: ID!, $u: ID!) { createDeal(input: {title: "D", value: "1200.50",
                  companyId: $c, owners: [{userId: $u}]}) { id } }""",
                {"c": company_id, "u": me},
            )
    return me


async def test_deep_page_is_compiled_with_one_statement_per_level_at_any_size(
    api: Api, compiled_sql: StatementCounter
) -> None:
    await seed(api, 12)
    counts = {}
    for first in (3, 12):
        compiled_sql.statements.clear()
        data = await api.data(DEEP, {"first": first})
        assert len(data["companies"]["edges"]) == first
        counts[first] = compiled_sql.count
    # root page and count (the resolvers' own), then one per relation level: industry,
    # emails, phones, owners (their users joined in), contacts (their company joined in),
    # their emails, phones, owners (users joined in), deals (stage and pipeline joined in),
    # deal owners (users joined in). The page's own rows (the resolver's statement) take
    # their to-one industry in a statement of its own.
    assert counts == {3: 2 + 10, 12: 2 + 10}, compiled_sql.statements
    deals = next(s for s in compiled_sql.statements if s.startswith("SELECT page.id, page.title"))
    for joined in ("pipeline_stage", "pipeline"):  # another tenant's row would read as null
        on_clause = rf"LEFT OUTER JOIN {joined} AS (\w+) ON ((?!JOIN|WHERE).)*"
        assert re.search(on_clause + r"\1\.tenant_id = \$", deals), deals


JOINED = """query($id: ID!) { company(id: $id) { name industry { name } deals { edges { node {
  title contact { lastName } company { name industry { name } } stage { name }
  again: stage { kind } } } } } }"""


async def test_to_one_rows_are_joined_into_their_parents_statement_and_missing_ones_are_null(
    api: Api, compiled_sql: StatementCounter
) -> None:
    await seed(api, 2)  # the first company has no industry; no deal has a contact
    page = await api.data("{ companies(first: 2) { edges { node { id } } } }")
    industries = []
    for edge in page["companies"]["edges"]:
        compiled_sql.statements.clear()
        company = (await api.data(JOINED, {"id": edge["node"]["id"]}))["company"]
        assert compiled_sql.count == 2, compiled_sql.statements  # the company; its deals
        deals = compiled_sql.statements[1]
        assert deals.count("JOIN pipeline_stage") == 1, deals  # one join for both aliases
        industries.append(company["industry"])
        assert len(company["deals"]["edges"]) == 2
        for deal in (edge["node"] for edge in company["deals"]["edges"]):
            assert deal["contact"] is None
            assert deal["company"] == {"name": company["name"], "industry": company["industry"]}
            assert deal["stage"]["name"] and deal["again"]["kind"]
    assert industries == [None, {"name": "Handel"}]


PAGE = """query($after: String, $search: String, $status: [EntityStatus!]) {
  companies(first: 2, after: $after, filter: {search: $search, status: $status},
            orderBy: {field: NAME, direction: DESC}) {
    edges { cursor node { id name } } pageInfo { hasNextPage endCursor } } }"""


def page_statements(counter: StatementCounter) -> list[str]:
    return [s for s in counter.statements if "AS sort_key" in s and "FROM company" in s]


async def test_list_roots_run_in_the_plan_reading_only_the_columns_asked_for(
    api: Api, compiled_sql: StatementCounter
) -> None:
    await seed(api, 5)
    names, after, variables = [], None, {"search": "Firma", "status": ["ACTIVE"]}
    for _ in range(3):
        data = (await api.data(PAGE, {**variables, "after": after}))["companies"]
        names += [edge["node"]["name"] for edge in data["edges"]]
        after = data["pageInfo"]["endCursor"]
    assert names == ["Firma 04", "Firma 03", "Firma 02", "Firma 01", "Firma 00"]
    assert data["pageInfo"]["hasNextPage"] is False
    pages = page_statements(compiled_sql)
    assert len(pages) == 3, compiled_sql.statements  # cursor, search and IN list included
    for statement in pages:
        assert "SELECT company.id, company.name, company.name_key AS sort_key" in statement
        assert "company.notes" not in statement


async def test_list_roots_of_two_tenants_share_the_sql_and_see_their_own_rows(
    api: Api, compiled_sql: StatementCounter
) -> None:
    other = Api(api.client, api.tokens, f"{api.tenant}-b")
    await seed(api, 2)
    await other.data('mutation { createCompany(input: {name: "Firma B"}) { id } }')
    ours = await api.data(PAGE, {"search": "Firma"})
    theirs = await other.data(PAGE, {"search": "Firma"})
    assert [e["node"]["name"] for e in ours["companies"]["edges"]] == ["Firma 01", "Firma 00"]
    assert [e["node"]["name"] for e in theirs["companies"]["edges"]] == ["Firma B"]
    first, second = page_statements(compiled_sql)
    assert first == second  # one statement shape, the tenant a bound value


UNFILTERED = """query($after: String, $direction: OrderDirection!) {
  companies(first: 2, after: $after, orderBy: {field: NAME, direction: $direction}) {
    edges { node { name } } pageInfo { hasNextPage endCursor } } }"""


async def names_page_by_page(api: Api, direction: str) -> list[str]:
    names, after = [], None
    for _ in range(10):  # a cursor that did not move would page forever
        data = (await api.data(UNFILTERED, {"after": after, "direction": direction}))["companies"]
        names += [edge["node"]["name"] for edge in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            return names
        after = data["pageInfo"]["endCursor"]
    raise AssertionError(f"no last page after {names}")


async def test_unfiltered_pages_follow_each_requests_cursor_and_tenant(
    api: Api, compiled_sql: StatementCounter
) -> None:
    """Pages without conditions, forwards and backwards, in two tenants: one text per shape
    (order, cursor or not), the tenant filtered in each; in verify mode every page is also
    compared with the executor's."""
    other = Api(api.client, api.tokens, f"{api.tenant}-b")
    for name in ("Firma A", "Firma C", "Firma B", "Firma E", "Firma D"):
        await api.data(
            "mutation($n: String!) { createCompany(input: {name: $n}) { id } }", {"n": name}
        )
    await other.data('mutation { createCompany(input: {name: "Firma X"}) { id } }')
    assert await names_page_by_page(api, "ASC") == [f"Firma {c}" for c in "ABCDE"]
    assert await names_page_by_page(api, "DESC") == [f"Firma {c}" for c in "EDCBA"]
    assert await names_page_by_page(other, "ASC") == ["Firma X"]
    pages = page_statements(compiled_sql)
    assert len(pages) == 3 + 3 + 1
    assert len(set(pages)) == 4  # ascending or descending, first page or after a cursor
    for statement in pages:
        assert re.search(r"company\.tenant_id = \$\d", statement), statement


@pytest.fixture
async def compiled_api(api: Api, settings: Settings) -> AsyncIterator[Api]:
    """The same tenant through an app in the production mode ("on"): the suite's own app runs
    in verify mode, which compares every query with the executor instead."""
    async with serving(settings.model_copy(update={"compiled_execution": "on"})) as client:
        yield Api(client, api.tokens, api.tenant)


@pytest.fixture
def full_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return record_full_runs(monkeypatch)


async def test_an_unfiltered_page_is_built_once_per_shape(
    compiled_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[bool] = []  # after a cursor, for each page statement built
    build = PageQuery.statement

    def counted(query: PageQuery, *args: Any, **kwargs: Any) -> Any:
        built.append(query.request.after is not None)
        return build(query, *args, **kwargs)

    monkeypatch.setattr(PageQuery, "statement", counted)
    create = "mutation($n: String!) { createCompany(input: {name: $n}) { id } }"
    other = Api(compiled_api.client, compiled_api.tokens, f"{compiled_api.tenant}-b")
    for name in ("Firma A", "Firma B", "Firma C", "Firma D", "Firma E"):
        await compiled_api.data(create, {"n": name})
    await other.data(create, {"n": "Firma X"})
    ours = [f"Firma {c}" for c in "ABCDE"]
    assert await names_page_by_page(compiled_api, "ASC") == ours
    assert True in built and False in built
    once = len(built)
    for _ in range(2):  # the same shapes again, and in another tenant: nothing built
        assert await names_page_by_page(compiled_api, "ASC") == ours
        assert await names_page_by_page(other, "ASC") == ["Firma X"]
    assert len(built) == once


async def test_a_query_answered_from_its_plan_once_skips_the_full_way_after(
    compiled_api: Api, full_runs: list[str]
) -> None:
    await seed(compiled_api, 3)
    other = Api(compiled_api.client, compiled_api.tokens, f"{compiled_api.tenant}-b")
    await other.data('mutation { createCompany(input: {name: "Firma B"}) { id } }')
    full_runs.clear()
    first = await compiled_api.data(PAGE, {"search": "Firma"})
    again = await compiled_api.data(PAGE, {"search": "Firma"})
    theirs = await other.data(PAGE, {"search": "Firma"})
    assert full_runs == [PAGE]  # only the first run parsed, validated and checked the limits
    assert again == first
    assert [e["node"]["name"] for e in first["companies"]["edges"]] == ["Firma 02", "Firma 01"]
    assert [e["node"]["name"] for e in theirs["companies"]["edges"]] == ["Firma B"]


async def test_an_admitted_query_is_answered_without_strawberrys_view(
    compiled_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """POSTed again, an admitted document skips the view, with the same answer; over GET a
    document is never admitted (the full way still answers it from its plan)."""
    await seed(compiled_api, 2)
    views: list[str] = []
    run = CrmGraphQL.run

    async def counted(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        views.append(request.method)
        return await run(self, request, *args, **kwargs)

    monkeypatch.setattr(CrmGraphQL, "run", counted)
    body = {"query": PAGE, "variables": {"search": "Firma"}}
    token = compiled_api.token()
    first, again = [await compiled_api.post(body, token) for _ in range(2)]
    assert views == ["POST"]
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"] == "application/json"
    params = {"query": PAGE, "variables": orjson.dumps(body["variables"]).decode()}
    headers = {"authorization": f"Bearer {token}"}
    for _ in range(2):
        by_get = await compiled_api.client.get("/graphql", params=params, headers=headers)
        assert by_get.content == first.content
    assert views == ["POST", "GET", "GET"]
    # A type strawberry does not parse as JSON gets the same answer, admitted or not.
    other_type = {**headers, "content-type": "application/graphql-response+json"}
    refused = await compiled_api.client.post(
        "/graphql", content=orjson.dumps(body), headers=other_type
    )
    assert refused.status_code == 400, refused.text


async def test_an_admitted_query_with_something_to_report_goes_the_full_way(
    compiled_api: Api, full_runs: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(compiled_api, 1)
    query = "query($first: Int) { companies(first: $first) { edges { node { name } } } }"
    await compiled_api.data(query, {"first": 1})
    full_runs.clear()
    assert (await compiled_api.data(query, {"first": 1}))["companies"]["edges"]
    assert full_runs == []  # admitted
    plan_runs: list[bool] = []
    run_plan = compiled_extension.run_plan

    async def counted(*args: Any, **kwargs: Any) -> Any:
        plan_runs.append(True)
        return await run_plan(*args, **kwargs)

    monkeypatch.setattr(compiled_extension, "run_plan", counted)
    too_many = await compiled_api(query, {"first": 5000})
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert full_runs == [query]
    assert plan_runs == [True]  # the full way did not try the same plan again
    signed_out = await compiled_api.post({"query": query, "variables": {"first": 1}})
    assert signed_out.status_code == 401
    assert signed_out.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_named_documents_are_admitted_under_the_name_the_client_sent(
    compiled_api: Api, full_runs: list[str]
) -> None:
    await seed(compiled_api, 1)
    named = "query Firmen { companies { edges { node { name } } } }"
    token = compiled_api.token()
    full_runs.clear()
    for name in (None, None, None, "Firmen", "Firmen"):
        answer = await compiled_api.post({"query": named, "operationName": name}, token)
        assert answer.json()["data"]["companies"]["edges"], answer.text
    assert full_runs == [named, named]  # once without a name, once with it


async def test_a_malformed_operation_name_is_a_clear_error(compiled_api: Api) -> None:
    await seed(compiled_api, 1)
    query = "{ companies { edges { node { name } } } }"
    await compiled_api.data(query)
    for name in ([], {}, 7):
        answer = await compiled_api.post(
            {"query": query, "operationName": name}, compiled_api.token()
        )
        assert answer.status_code == 400, answer.text


async def test_a_refused_document_is_never_admitted(
    compiled_api: Api, full_runs: list[str]
) -> None:
    await seed(compiled_api, 1)
    deep = "company { name }"
    for _ in range(4):
        deep = f"contacts {{ edges {{ node {{ company {{ {deep} }} }} }} }}"
    deep = f"{{ companies {{ edges {{ node {{ {deep} }} }} }} }}"
    full_runs.clear()
    for _ in range(2):
        refused = await compiled_api(deep)
        assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", refused
    assert full_runs == [deep, deep]


async def test_a_plan_asks_sqlalchemy_for_its_driver_connection_once(
    compiled_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each lookup through SQLAlchemy's async connection is a greenlet switch: once per
    request, not once per statement."""
    await seed(compiled_api, 2)
    lookups: list[bool] = []
    lookup = AsyncConnection.get_raw_connection

    async def counted(self: AsyncConnection) -> Any:
        lookups.append(True)
        return await lookup(self)

    monkeypatch.setattr(AsyncConnection, "get_raw_connection", counted)
    data = await compiled_api.data(DEEP, {"first": 2})
    assert len(data["companies"]["edges"]) == 2
    assert lookups == [True]
