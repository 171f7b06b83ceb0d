"""Nested lists that can grow are connections (issue 24, item 3): `company.contacts`,
`company.deals`, `company.activities`, `company.contracts`, `contact.deals`,
`contact.activities`, `deal.activities` page with the top-level lists' cursors and orders,
count on demand, and cost one statement per level whatever the number of parents."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, StatementCounter

CREATE_COMPANY = "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }"
CREATE_CONTACT = "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }"
PAGE = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String,
                 $order: ContactOrder) {
  company(id: $id) { contacts(first: $first, after: $after, last: $last, before: $before,
                              orderBy: $order) {
    totalCount edges { cursor node { lastName } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""


async def company_with_contacts(api: Api, names: list[str]) -> str:
    company: str = (await api.data(CREATE_COMPANY, {"i": {"name": "Bosch", "owners": []}}))[
        "createCompany"
    ]["id"]
    for name in names:
        await api.data(CREATE_CONTACT, {"i": {"lastName": name, "companyId": company}})
    return company


async def page(api: Api, company: str, **arguments: Any) -> dict[str, Any]:
    data = await api.data(PAGE, {"id": company, **arguments})
    contacts: dict[str, Any] = data["company"]["contacts"]
    return contacts


def names(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["lastName"] for edge in connection["edges"]]


async def test_company_contacts_page_forward_and_back_with_cursors(api: Api) -> None:
    company = await company_with_contacts(api, ["Weber", "Arndt", "Zimmer", "Maier", "Bauer"])
    first = await page(api, company, first=2)
    assert names(first) == ["Arndt", "Bauer"]
    assert first["totalCount"] == 5
    assert first["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": first["edges"][0]["cursor"],
        "endCursor": first["edges"][1]["cursor"],
    }
    second = await page(api, company, first=2, after=first["pageInfo"]["endCursor"])
    assert names(second) == ["Maier", "Weber"]
    assert second["pageInfo"]["hasNextPage"] and second["pageInfo"]["hasPreviousPage"]
    third = await page(api, company, first=2, after=second["pageInfo"]["endCursor"])
    assert names(third) == ["Zimmer"] and not third["pageInfo"]["hasNextPage"]
    beyond = await page(api, company, after=third["pageInfo"]["endCursor"])
    assert beyond["edges"] == [] and beyond["totalCount"] == 5  # counted without a page
    # From the end: `last` (the default `first` yields to it), then `before`
    tail = await page(api, company, last=2)
    assert names(tail) == ["Weber", "Zimmer"]
    assert tail["pageInfo"]["hasPreviousPage"] and not tail["pageInfo"]["hasNextPage"]
    back = await page(api, company, last=2, before=tail["pageInfo"]["startCursor"])
    assert names(back) == ["Bauer", "Maier"]
    # Another order: the top-level list's, cursors included
    by_name = await page(api, company, first=3, order={"field": "LAST_NAME", "direction": "DESC"})
    assert names(by_name) == ["Zimmer", "Weber", "Maier"]


async def test_a_nested_cursor_is_the_top_level_lists_cursor(api: Api) -> None:
    company = await company_with_contacts(api, ["Weber", "Arndt", "Zimmer"])
    nested = await page(api, company, first=1)
    top = """query($c: ID!, $after: String) { contacts(first: 1, after: $after,
        filter: {companyId: $c}, orderBy: {field: LAST_NAME}) {
        edges { cursor node { lastName } } } }"""
    first = (await api.data(top, {"c": company}))["contacts"]["edges"]
    assert first == nested["edges"]  # same row, same cursor
    after = nested["pageInfo"]["endCursor"]
    following = (await api.data(top, {"c": company, "after": after}))["contacts"]["edges"]
    assert [e["node"]["lastName"] for e in following] == ["Weber"]


async def test_bad_page_arguments_are_user_errors(api: Api) -> None:
    company = await company_with_contacts(api, ["Weber"])
    deal_cursor_query = """{ deals(first: 1) { edges { cursor } } }"""
    await api.data(deal_cursor_query)
    for arguments, argument in (
        ({"first": 201}, "first"),
        ({"first": -1}, "first"),
        ({"first": 3, "last": 2}, "last"),
        ({"after": "not-a-cursor"}, "after"),
        ({"last": 500}, "last"),
    ):
        result = await api(PAGE, {"id": company, **arguments})
        error = result["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (arguments, error)
        assert argument in error["message"], (arguments, error)
    # A cursor of another order of the same list is refused, not misread
    by_date = """query($id: ID!) { company(id: $id) {
        contacts(orderBy: {field: CREATED_AT}) { edges { cursor } } } }"""
    cursor = (await api.data(by_date, {"id": company}))["company"]["contacts"]["edges"][0]
    result = await api(PAGE, {"id": company, "after": cursor["cursor"]})
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


LEVELS = """{ companies(first: 50) { edges { node { name
  contacts(first: 2) { edges { node { lastName
    deals(first: 1) { edges { node { title } } } } } }
  deals(first: 2) { TOTAL edges { node { title activities { edges { node { subject } } } } } }
  activities(first: 1) { edges { node { subject } } }
  contracts { edges { node { title } } } } } } }"""


async def _companies(api: Api, start: int, count: int) -> None:
    pipeline = await api.data(
        'mutation($n: String!) { createPipeline(input: {name: $n, stages: [{name: "S"}]}) '
        "{ id stages { id } } }",
        {"n": f"P{start}"},
    )
    stage = pipeline["createPipeline"]["stages"][0]["id"]
    for n in range(start, start + count):
        company = (await api.data(CREATE_COMPANY, {"i": {"name": f"C{n}", "owners": []}}))[
            "createCompany"
        ]["id"]
        contact = (
            await api.data(CREATE_CONTACT, {"i": {"lastName": f"K{n}", "companyId": company}})
        )["createContact"]["id"]
        for title in ("A", "B", "C"):
            await api.data(
                """mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }""",
                {"i": {"title": title, "value": "1", "pipelineId": pipeline["createPipeline"]["id"],
                       "stageId": stage, "companyId": company, "contactId": contact}},
            )  # fmt: skip


async def _statements(
    api: Api, sql: StatementCounter, compiled: StatementCounter, total: bool
) -> tuple[int, Any]:
    sql.statements.clear()
    compiled.statements.clear()
    data = await api.data(LEVELS.replace("TOTAL", "totalCount" if total else ""))
    assert compiled.count == sql.count, (compiled.statements, sql.statements)
    return sql.count, data


async def test_one_statement_per_level_for_1_and_for_20_parents(
    api: Api, sql: StatementCounter, compiled_sql: StatementCounter
) -> None:
    """The executor (loaders) and the compiled path (its plan) alike; in verify mode both
    answer every query, each counted on its own."""
    await _companies(api, 0, 1)
    one, data = await _statements(api, sql, compiled_sql, total=True)
    first = data["companies"]["edges"][0]["node"]
    assert first["deals"]["totalCount"] == 3 and len(first["deals"]["edges"]) == 2
    await _companies(api, 1, 19)
    twenty, data = await _statements(api, sql, compiled_sql, total=True)
    assert len(data["companies"]["edges"]) == 20
    assert all(e["node"]["deals"]["totalCount"] == 3 for e in data["companies"]["edges"])
    # companies; contacts; their deals; deals (with their count); their activities;
    # activities; contracts: one statement each, for 1 parent as for 20
    assert one == twenty == 7, sql.statements
    for statements in (sql.statements, compiled_sql.statements):
        counted = [s for s in statements if "crm_total" in s]
        assert len(counted) == 1  # the deals level: its page and its counts in one statement
    without, _ = await _statements(api, sql, compiled_sql, total=False)
    assert without == 7
    # no count when not asked
    assert not [s for s in sql.statements + compiled_sql.statements if "crm_total" in s]
