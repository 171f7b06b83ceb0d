"""`company.relationships` is a connection (issue 24, item 3): both directions of a company
(where it is the source and where it is the target), each seen from that company, paged with
the top-level `companyRelationships` cursors, counted on demand, one statement per level for
all companies, read by the two direction indexes under row-level security; the compiled
path leaves it to the executor."""

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
from app.services.relationships.queries import RELATIONSHIP_BY_CREATION
from app.services.relationships.rules import RELATIONSHIP
from resolvers.relationships.types import RELATIONSHIPS_OF
from tests.conftest import Api, Servers, StatementCounter, _asyncpg_dsn, error_codes
from tests.factories import new_scope, nodes
from tests.test_nested_connections import _insert, _plan
from tests.test_relationships import RELATE, company, kind

PAGE = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String,
                 $order: CompanyRelationshipOrder) {
  company(id: $id) { relationships(first: $first, after: $after, last: $last,
                                   before: $before, orderBy: $order) {
    totalCount edges { cursor node { direction otherCompany { name } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""


async def hub_with_four(api: Api) -> tuple[str, dict[str, str]]:
    """A company related to four others, in creation order: it is the source of the first
    and third, the target of the second and fourth."""
    hub, type_id = await company(api, "Hub"), await kind(api)
    others = {name: await company(api, name) for name in ("B", "C", "D", "E")}
    for name, outgoing in (("B", True), ("C", False), ("D", True), ("E", False)):
        a, b = (hub, others[name]) if outgoing else (others[name], hub)
        await api.data(RELATE, {"a": a, "b": b, "t": type_id})
    return hub, others


async def page(api: Api, company_id: str, **arguments: Any) -> dict[str, Any]:
    data = await api.data(PAGE, {"id": company_id, **arguments})
    relationships: dict[str, Any] = data["company"]["relationships"]
    return relationships


def seen(connection: dict[str, Any]) -> list[tuple[str, str]]:
    return [(n["direction"], n["otherCompany"]["name"]) for n in nodes(connection)]


async def test_both_directions_page_forward_and_back_with_cursors(api: Api) -> None:
    hub, others = await hub_with_four(api)
    first = await page(api, hub, first=2)
    assert seen(first) == [("OUTGOING", "B"), ("INCOMING", "C")]
    assert first["totalCount"] == 4
    assert first["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": first["edges"][0]["cursor"],
        "endCursor": first["edges"][1]["cursor"],
    }
    second = await page(api, hub, first=2, after=first["pageInfo"]["endCursor"])
    assert seen(second) == [("OUTGOING", "D"), ("INCOMING", "E")]
    assert not second["pageInfo"]["hasNextPage"] and second["pageInfo"]["hasPreviousPage"]
    beyond = await page(api, hub, after=second["pageInfo"]["endCursor"])
    assert beyond["edges"] == [] and beyond["totalCount"] == 4  # counted without a page
    tail = await page(api, hub, last=1)
    assert seen(tail) == [("INCOMING", "E")] and tail["pageInfo"]["hasPreviousPage"]
    back = await page(api, hub, last=2, before=tail["pageInfo"]["startCursor"])
    assert seen(back) == [("INCOMING", "C"), ("OUTGOING", "D")]
    newest = await page(api, hub, first=1, order={"direction": "DESC"})
    assert seen(newest) == [("INCOMING", "E")]
    # Seen from the other side: one relationship, the other direction
    assert seen(await page(api, others["C"])) == [("OUTGOING", "Hub")]


async def test_a_nested_cursor_is_the_top_level_lists_cursor(api: Api) -> None:
    hub, _ = await hub_with_four(api)
    nested = await page(api, hub, first=1)
    top = """query($c: ID!, $after: String) { companyRelationships(first: 1, after: $after,
        filter: {companyId: $c}) { edges { cursor node { direction otherCompany { name } } } } }"""
    first = (await api.data(top, {"c": hub}))["companyRelationships"]["edges"]
    assert first == nested["edges"]  # same row, same cursor, same side
    after = nested["pageInfo"]["endCursor"]
    following = (await api.data(top, {"c": hub, "after": after}))["companyRelationships"]
    assert seen(following) == [("INCOMING", "C")]


async def test_bad_page_arguments_are_user_errors(api: Api) -> None:
    hub, _ = await hub_with_four(api)
    contacts = "{ contacts(first: 1) { edges { cursor } } }"
    await api.data(
        'mutation($c: ID!) { createContact(input: {lastName: "K", companyId: $c}) { id } }',
        {"c": hub},
    )
    contact_cursor = (await api.data(contacts))["contacts"]["edges"][0]["cursor"]
    for arguments in (
        {"first": 201},
        {"first": -1},
        {"first": 3, "last": 2},
        {"after": "not-a-cursor"},
        {"after": contact_cursor},  # another list's cursor
    ):
        result = await api(PAGE, {"id": hub, **arguments})
        assert error_codes(result) == ["BAD_USER_INPUT"], (arguments, result)


async def test_a_trashed_company_hides_its_relationships_and_restoring_brings_them_back(
    api: Api,
) -> None:
    hub, others = await hub_with_four(api)
    await api.data("mutation($id: ID!) { deleteCompany(id: $id) }", {"id": others["C"]})
    hidden = await page(api, hub)
    assert seen(hidden) == [("OUTGOING", "B"), ("OUTGOING", "D"), ("INCOMING", "E")]
    assert hidden["totalCount"] == 3
    await api.data("mutation($id: ID!) { restoreCompany(id: $id) { id } }", {"id": others["C"]})
    assert (await page(api, hub))["totalCount"] == 4


LEVEL = """{ companies(first: 50) { edges { node { name
  relationships(first: 2) { TOTAL edges { node { direction otherCompany { name }
    type { name } } } } } } } }"""


async def _statements(
    api: Api, sql: StatementCounter, compiled: StatementCounter, total: bool
) -> tuple[int, Any]:
    sql.statements.clear()
    compiled.statements.clear()
    data = await api.data(LEVEL.replace("TOTAL", "totalCount" if total else ""))
    assert compiled.count == 0, compiled.statements  # the compiled path declines it
    return sql.count, data


async def test_one_statement_for_the_level_for_1_and_for_20_companies(
    api: Api, sql: StatementCounter, compiled_sql: StatementCounter
) -> None:
    """companies; their relationships (pages and counts together); the other companies; the
    types: four statements for 1 company as for 20, the count only when selected."""
    type_id = await kind(api)
    first, second = await company(api, "A0"), await company(api, "B0")
    await api.data(RELATE, {"a": first, "b": second, "t": type_id})
    one, data = await _statements(api, sql, compiled_sql, total=True)
    assert {e["node"]["relationships"]["totalCount"] for e in data["companies"]["edges"]} == {1}
    for n in range(1, 10):
        a, b = await company(api, f"A{n}"), await company(api, f"B{n}")
        await api.data(RELATE, {"a": a, "b": b, "t": type_id})
        await api.data(RELATE, {"a": first, "b": b, "t": type_id})
    twenty, data = await _statements(api, sql, compiled_sql, total=True)
    assert len(data["companies"]["edges"]) == 20
    counts = {e["node"]["name"]: e["node"]["relationships"] for e in data["companies"]["edges"]}
    assert counts["A0"]["totalCount"] == 10 and len(counts["A0"]["edges"]) == 2
    assert one == twenty == 4, sql.statements
    assert len([s for s in sql.statements if "crm_total" in s]) == 1
    without, _ = await _statements(api, sql, compiled_sql, total=False)
    assert without == 4 and not [s for s in sql.statements if "crm_total" in s]


COSTED = """query($id: ID!, $n: Int) { company(id: $id) {
  relationships(first: $n) { edges { node { id } } } } }"""
COSTED_LAST = (
    """query($id: ID!) { company(id: $id) { relationships(last: 3) { edges { cursor } } } }"""
)


async def test_relationships_are_priced_by_first_or_last(api: Api) -> None:
    hub = await company(api, "Hub")
    for n, size in ((7, 7), (None, 50), (200, 200)):
        result = await api(COSTED, {"id": hub, "n": n})
        assert "errors" not in result, result
        assert result["extensions"]["cost"] == 1 + (1 + size * 2), n
    result = await api(COSTED_LAST, {"id": hub})
    assert result["extensions"]["cost"] == 1 + (1 + 3), result


# --- under row-level security --------------------------------------------------------------

COMPANIES, PER_COMPANY = 200, 5


@pytest.fixture
async def related(sessions: Any, servers: Servers) -> tuple[TenantScope, list[uuid.UUID]]:
    """A tenant with 200 companies, each the source of 5 relationships and the target of 5
    (analyzed)."""
    scope = await new_scope(sessions)
    type_id = uuid.uuid4()
    await _insert(scope, models.RelationshipType, [{"id": type_id, "name": "Partner"}])
    companies = [uuid.uuid4() for _ in range(COMPANIES)]
    await _insert(scope, models.Company, [{"id": c, "name": f"C{c}"} for c in companies])
    pairs = [
        {"from_company_id": c, "to_company_id": companies[(n + k) % COMPANIES],
         "relationship_type_id": type_id}
        for n, c in enumerate(companies) for k in range(1, PER_COMPANY + 1)
    ]  # fmt: skip
    await _insert(scope, models.CompanyRelationship, pairs)
    owner = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    try:
        await owner.execute("ANALYZE")
    finally:
        await owner.close()
    return scope, companies


def _pages(first: int = 3) -> ChildPages[Any]:
    spec = RELATIONSHIPS_OF
    request = PageRequest(first=first)
    return ChildPages(
        RELATIONSHIP, spec.parent_column, RELATIONSHIP_BY_CREATION, request, spec.or_column
    )


async def test_each_companys_page_is_read_by_both_direction_indexes_under_row_security(
    related: tuple[TenantScope, list[uuid.UUID]],
) -> None:
    """relationships for 20 companies, as `crm_tenant`: each company's page and count read
    through the (tenant_id, from_company_id) and (tenant_id, to_company_id) indexes,
    correlated to the company's id, no scan of the tenant's relationships."""
    scope, companies = related
    plan = await _plan(scope, _pages(), companies[:20])
    assert "Seq Scan on company_relationship" not in plan, plan
    scans = re.findall(r"Bitmap Index Scan on (\w+)", plan)
    scans += re.findall(r"Index (?:Only )?Scan using (\w+) on company_relationship\b", plan)
    assert "ix_company_relationship_tenant_id_from" in scans, plan
    assert "ix_company_relationship_tenant_id_to" in scans, plan
    conditions = "\n".join(re.findall(r"Index Cond: (.*)", plan))
    assert re.search(r"from_company_id = \w+\.id\b", conditions), plan  # per company
    assert re.search(r"to_company_id = \w+\.id\b", conditions), plan


async def test_each_company_gets_both_directions_and_another_tenant_none(
    related: tuple[TenantScope, list[uuid.UUID]], sessions: Any
) -> None:
    scope, companies = related
    own = await child_pages(scope, _pages(first=20), companies[:3], counted=True)
    assert {p.total for p in own} == {2 * PER_COMPANY}
    for company_id, found in zip(companies[:3], own, strict=True):
        assert len(found.page.rows) == 2 * PER_COMPANY
        assert all(company_id in (r.from_company_id, r.to_company_id) for r in found.page.rows)
        outgoing = [r for r in found.page.rows if r.from_company_id == company_id]
        assert len(outgoing) == PER_COMPANY
    stranger = await new_scope(sessions)
    found = await child_pages(stranger, _pages(first=20), companies[:3], counted=True)
    assert [(list(p.page.rows), p.total) for p in found] == [([], 0)] * 3
    async with scope.reading() as reads:  # the relationships are there for their own tenant
        count = sa.select(sa.func.count(models.CompanyRelationship.id))
        assert (await reads.execute(count)).scalar_one() == COMPANIES * PER_COMPANY


CACHE_SAFE = """mutation($a: ID!, $b: ID!, $t: ID!) {
  createCompanyRelationship(fromCompanyId: $a, toCompanyId: $b, typeId: $t) {
    fromCompany { relationships { edges { node { ...Fields } } } }
    toCompany { relationships { edges { node { ...Fields } } } } } }
fragment Fields on CompanyRelationship {
  id fromCompanyId toCompanyId fromCompany { id name } toCompany { id name } type { name } }"""


async def test_a_relationship_reads_the_same_from_both_companies_for_a_normalized_cache(
    api: Api,
) -> None:
    """A normalized cache (Apollo, Relay) stores CompanyRelationship:<id> once; the payload
    lists the relationship under both companies, so every field it offers without deprecation
    must read the same from either side. The fields that depend on the side are deprecated."""
    a, b, type_id = await company(api, "Quelle"), await company(api, "Ziel"), await kind(api)
    data = await api.data(CACHE_SAFE, {"a": a, "b": b, "t": type_id})
    payload = data["createCompanyRelationship"]
    from_side = nodes(payload["fromCompany"]["relationships"])
    to_side = nodes(payload["toCompany"]["relationships"])
    assert from_side == to_side and len(from_side) == 1
    assert from_side[0]["fromCompany"] == {"id": a, "name": "Quelle"}
    assert from_side[0]["toCompany"] == {"id": b, "name": "Ziel"}
    fields = await api.data(
        """{ __type(name: "CompanyRelationship") {
          fields(includeDeprecated: true) { name isDeprecated deprecationReason } } }"""
    )
    deprecated = {
        f["name"]: f["deprecationReason"] for f in fields["__type"]["fields"] if f["isDeprecated"]
    }
    assert set(deprecated) == {"direction", "otherCompanyId", "otherCompany"}
    assert all("cache" in reason for reason in deprecated.values())
