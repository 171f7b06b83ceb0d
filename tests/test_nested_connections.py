"""Nested lists that can grow are connections (issue 24, item 3): `company.contacts`,
`company.deals`, `company.activities`, `company.contracts`, `contact.deals`,
`contact.activities`, `deal.activities` page with the top-level lists' cursors and orders,
count on demand, and cost one statement per level whatever the number of parents."""

from __future__ import annotations

import re
import uuid
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa

import models
from app.data.child_pages import ChildPages, child_pages
from app.data.pagination import PageRequest
from app.data.tenancy import TenantScope
from app.data.tenant_filter import READ_FILTERS, TENANT_PARAMETER
from app.internals import positional_values
from app.services.contacts.rules import CONTACT
from resolvers.companies.types import CONTACTS_OF_COMPANY
from resolvers.compiled.sql import DIALECT
from resolvers.deals.types import DEALS_OF
from tests.conftest import Api, Servers, StatementCounter, _asyncpg_dsn
from tests.factories import new_scope

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


# --- under row-level security: the per-parent page is an index read --------------------------

COMPANIES, PER_COMPANY = 200, 10


async def _insert(scope: TenantScope, model: Any, rows: list[dict[str, Any]]) -> None:
    async with scope.writing() as uow:
        await uow.execute(sa.insert(model).values([scope.owned(**row) for row in rows]))


@pytest.fixture
async def populated(sessions: Any, servers: Servers) -> tuple[TenantScope, list[uuid.UUID]]:
    """A tenant with 200 companies of 10 contacts and 10 deals each (analyzed)."""
    scope = await new_scope(sessions)
    pipeline, stage = uuid.uuid4(), uuid.uuid4()
    await _insert(scope, models.Pipeline, [{"id": pipeline, "name": "P"}])
    await _insert(
        scope, models.PipelineStage, [{"id": stage, "pipeline_id": pipeline, "name": "S"}]
    )
    companies = [uuid.uuid4() for _ in range(COMPANIES)]
    await _insert(scope, models.Company, [{"id": c, "name": f"C{c}"} for c in companies])
    contacts = [
        {"last_name": f"K{n}", "company_id": c} for c in companies for n in range(PER_COMPANY)
    ]
    await _insert(scope, models.Contact, contacts)
    deals = [
        {"title": f"D{n}", "pipeline_id": pipeline, "stage_id": stage, "company_id": c}
        for c in companies
        for n in range(PER_COMPANY)
    ]
    await _insert(scope, models.Deal, deals)
    owner = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    try:
        await owner.execute("ANALYZE")
    finally:
        await owner.close()
    return scope, companies


async def _plan(scope: TenantScope, pages: ChildPages[Any], parents: list[uuid.UUID]) -> str:
    """EXPLAIN of the level's statement as the compiled path sends it, as `crm_tenant`."""
    statement = pages.statement(
        pages.entity.columns, pages.bounds(), counted=True, parent_ids=parents
    ).options(*READ_FILTERS)
    compiled = statement.compile(dialect=DIALECT)
    values = {**pages.bounds(), TENANT_PARAMETER: scope.tenant_id}
    sql, parameters = positional_values(compiled, compiled.construct_params(params=values))
    async with scope.driver_reading() as reading:
        assert await reading.driver.fetchval("SELECT current_user") == "crm_tenant"
        rows = await reading.driver.fetch(f"EXPLAIN {sql}", *parameters)
    return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize("entity", ["contact", "deal"])
async def test_each_parents_page_is_read_by_index_under_row_security(
    populated: tuple[TenantScope, list[uuid.UUID]], entity: str
) -> None:
    """company.contacts and company.deals for 20 companies: each company's page and count
    read through the (tenant_id, company_id) index, correlated to the parent's id (a LATERAL
    per parent, not a scan of the tenant's rows)."""
    scope, companies = populated
    spec = CONTACTS_OF_COMPANY if entity == "contact" else DEALS_OF["company_id"]
    request = PageRequest(first=5, descending=spec.default[1])
    pages = ChildPages(spec.entity, "company_id", spec.key_of(spec.default[0]), request)
    plan = await _plan(scope, pages, companies[:20])
    assert "Seq Scan" not in plan, plan
    scans = re.findall(rf"Index (?:Only )?Scan using (\w+) on {entity}\b", plan)
    scans += re.findall(r"Bitmap Index Scan on (\w+)", plan)
    assert f"ix_{entity}_tenant_id_company_id" in scans, plan
    conditions = "\n".join(re.findall(r"Index Cond: (.*)", plan))
    assert re.search(r"company_id = \w+\.id\b", conditions), plan  # per parent


async def test_another_tenants_parents_have_no_children(
    populated: tuple[TenantScope, list[uuid.UUID]], sessions: Any
) -> None:
    """Another tenant asking for the pages of these companies' ids finds nothing: the tenant
    filter reaches into each parent's page and count."""
    scope, companies = populated
    stranger = await new_scope(sessions)
    spec = CONTACTS_OF_COMPANY
    pages = ChildPages(CONTACT, "company_id", spec.key_of(spec.default[0]), PageRequest(first=5))
    own = await child_pages(scope, pages, companies[:3], counted=True)
    assert [len(p.page.rows) for p in own] == [5] * 3 and {p.total for p in own} == {10}
    found = await child_pages(stranger, pages, companies[:3], counted=True)
    assert [(list(p.page.rows), p.total) for p in found] == [([], 0)] * 3


COSTED = """query($id: ID!, $n: Int) { company(id: $id) {
  contacts(first: $n) { edges { node { id } } } deals(last: 3) { totalCount edges { cursor } } } }"""


async def test_nested_connections_are_priced_by_first_or_last(api: Api) -> None:
    """A nested connection costs itself, its page size in edges and as many nodes: `first`
    (its default 50 when not sent) or `last`."""
    company = await company_with_contacts(api, ["Weber"])
    deals = 1 + 3  # the connection and three edges (no nodes asked for)
    for n, size in ((7, 7), (None, 50), (200, 200)):
        result = await api(COSTED, {"id": company, "n": n})
        assert "errors" not in result, result
        assert result["extensions"]["cost"] == 1 + (1 + size * 2) + deals, n
