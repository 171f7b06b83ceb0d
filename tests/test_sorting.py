"""Sorting: what the new orders mean (related fields, NULLs last both ways), and nested lists
in every order of their root list, one statement per level on both execution paths (the
suite's verify mode compares the paths on every query)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.data.pagination import PageRequest, encode_cursor
from app.data.tenancy import TenantScope
from app.services.deals.queries import DealOrderField, DealQuery, deals_page
from tests.conftest import Api, StatementCounter
from tests.factories import new_scope, nodes
from tests.test_paging import (
    CREATE_ACTIVITY,
    CREATE_COMPANY,
    CREATE_CONTACT,
    CREATE_CONTRACT,
    _created,
    order_fields,
    seed_companies,
    seed_deals,
)


async def names_in_order(api: Api, root: str, field: str, direction: str, name: str) -> list[Any]:
    query = f"""query($order: {_order_type(root)}) {{
      {root}(orderBy: $order) {{ edges {{ node {{ {name} }} }} }} }}"""
    order = {"field": field, "direction": direction}
    return [e["node"][name] for e in (await api.data(query, {"order": order}))[root]["edges"]]


async def test_contacts_sort_by_company_name_with_the_companyless_last_both_ways(
    api: Api,
) -> None:
    zeta = await _created(api, CREATE_COMPANY, {"i": {"name": "zeta", "owners": []}})
    alpha = await _created(api, CREATE_COMPANY, {"i": {"name": "Alpha", "owners": []}})
    for last_name, company in (("A", zeta), ("B", None), ("C", alpha), ("D", zeta)):
        await api.data(CREATE_CONTACT, {"i": {"lastName": last_name, "companyId": company}})
    query = """query($d: OrderDirection!) { contacts(orderBy: {field: COMPANY_NAME, direction: $d})
      { edges { node { lastName company { name } } } } }"""

    async def order(direction: str) -> list[tuple[str, str | None]]:
        edges = (await api.data(query, {"d": direction}))["contacts"]["edges"]
        return [(e["node"]["lastName"], (e["node"]["company"] or {}).get("name")) for e in edges]

    ascending = await order("ASC")
    assert [company for _, company in ascending] == ["Alpha", "zeta", "zeta", None]
    # ties (broken by id) turn round, NULLs stay last
    descending = await order("DESC")
    assert [company for _, company in descending] == ["zeta", "zeta", "Alpha", None]
    assert descending[:2] == ascending[1:3][::-1]


async def test_deals_sort_by_stage_position_value_and_close_date(api: Api) -> None:
    pipeline = await api.data(
        """mutation { createPipeline(input: {name: "Board", stages: [{name: "Erst"},
        {name: "Dann"}, {name: "Zuletzt"}]}) { id stages { id name } } }"""
    )
    stages = {s["name"]: s["id"] for s in pipeline["createPipeline"]["stages"]}
    for title, stage, close in (
        ("x", "Zuletzt", "2026-01-01"),
        ("y", "Erst", None),
        ("z", "Dann", "2025-01-01"),
    ):
        await api.data(
            "mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }",
            {"i": {"title": title, "stageId": stages[stage], "expectedCloseDate": close}},
        )
    assert await names_in_order(api, "deals", "STAGE", "ASC", "title") == ["y", "z", "x"]
    assert await names_in_order(api, "deals", "STAGE", "DESC", "title") == ["x", "z", "y"]
    by_date = await names_in_order(api, "deals", "EXPECTED_CLOSE_DATE", "DESC", "title")
    assert by_date == ["x", "z", "y"]  # no date: last in both directions
    by_date = await names_in_order(api, "deals", "EXPECTED_CLOSE_DATE", "ASC", "title")
    assert by_date == ["z", "x", "y"]
    by_title = await names_in_order(api, "deals", "TITLE", "DESC", "title")
    assert by_title == ["z", "y", "x"]


async def test_companies_sort_by_industry_name_and_size(api: Api) -> None:
    industry = {
        n: await _created(
            api, "mutation($n: String!) { createIndustry(input: {name: $n}) { id } }", {"n": n}
        )
        for n in ("Bau", "agrar")
    }
    for name, sector, size in (("1", "Bau", "LARGE"), ("2", None, None), ("3", "agrar", "MICRO")):
        company = {"name": name, "industryId": industry.get(sector or ""), "companySize": size}
        await api.data(CREATE_COMPANY, {"i": {**company, "owners": []}})
    assert await names_in_order(api, "companies", "INDUSTRY", "ASC", "name") == ["3", "1", "2"]
    assert await names_in_order(api, "companies", "INDUSTRY", "DESC", "name") == ["1", "3", "2"]
    # the size bands in their natural order (the enum's), unknown last
    assert await names_in_order(api, "companies", "COMPANY_SIZE", "DESC", "name") == [
        "1",
        "3",
        "2",
    ]


# --- nested lists ---------------------------------------------------------------------------

# (parent root, nested field, the root list of the children, its filter on the parent)
NESTED = [
    ("companies", "contacts", "contacts", "companyId"),
    ("companies", "deals", "deals", "companyId"),
    ("companies", "activities", "activities", "companyId"),
    ("companies", "contracts", "contracts", "companyId"),
    ("contacts", "deals", "deals", "contactId"),
    ("contacts", "activities", "activities", "contactId"),
    ("deals", "activities", "activities", "dealId"),
]


async def seed_family(api: Api) -> None:
    """Companies with contacts, deals, activities and contracts: ties and NULLs in each."""
    companies = await seed_companies(api, 3)
    contacts = []
    for index in range(6):
        contact = {
            "lastName": ("Meier", "meier", "Abel")[index % 3],
            "firstName": (None, "Jan")[index % 2],
            "companyId": companies[index % 2],
            "department": (None, "Einkauf")[index % 2],
            "owners": [],
        }
        contacts.append(await _created(api, CREATE_CONTACT, {"i": contact}))
    deals = await seed_deals(api, companies[:2], 6)
    for index, deal in enumerate(deals):
        await api.data(
            "mutation($id: ID!, $c: ID) { updateDeal(id: $id, input: {contactId: $c}) { id } }",
            {"id": deal, "c": contacts[index % 2]},
        )
    for index in range(8):
        activity = {
            "type": ("CALL", "NOTE")[index % 2],
            "subject": ("Rückruf", "rückruf", "Angebot")[index % 3],
            "dueAt": (None, "2026-05-01T10:00:00+00:00")[index % 2],
            "companyId": companies[index % 2],
            "contactId": contacts[index % 2],
            "dealId": deals[index % 2],
        }
        await api.data(CREATE_ACTIVITY, {"i": activity})
    for index in range(5):
        contract = {
            "companyId": companies[index % 2],
            "title": ("Wartung", "wartung", "Lizenz")[index % 3],
            "endDate": (None, "2026-12-31")[index % 2],
            "value": (None, "10.00")[index % 2],
        }
        await api.data(CREATE_CONTRACT, {"i": contract})


@pytest.mark.parametrize(("parent", "nested", "children", "by"), NESTED)
async def test_nested_lists_sort_like_their_root_list(
    api: Api,
    sql: StatementCounter,
    compiled_sql: StatementCounter,
    parent: str,
    nested: str,
    children: str,
    by: str,
) -> None:
    await seed_family(api)
    query = f"""query($order: {_order_type(children)}) {{
      {parent}(first: 50) {{ edges {{ node {{ id
        {nested}(orderBy: $order) {{ edges {{ cursor node {{ id }} }} }} }} }} }} }}"""
    checked = 0
    for field in order_fields(children):
        for direction in ("ASC", "DESC"):
            order = {"field": field, "direction": direction}
            sql.statements.clear()
            compiled_sql.statements.clear()
            found = (await api.data(query, {"order": order}))[parent]["edges"]
            assert sql.count == 2, sql.statements  # the parents' page, one level of children
            assert compiled_sql.count == 2  # every nested connection compiles
            for edge in found:
                expected = await api.data(
                    f"""query($order: {_order_type(children)}, $id: ID) {{
                      {children}(first: 200, orderBy: $order, filter: {{{by}: $id}}) {{
                        edges {{ cursor node {{ id }} }} }} }}""",
                    {"order": order, "id": edge["node"]["id"]},
                )
                ids = [e["node"]["id"] for e in expected[children]["edges"]]
                # the root list's rows in its order, with its cursors
                assert edge["node"][nested]["edges"] == expected[children]["edges"], (
                    field,
                    direction,
                )
                checked += len(ids) > 1
    assert checked  # some parents had several children to sort


def _order_type(root: str) -> str:
    return {
        "companies": "CompanyOrder",
        "contacts": "ContactOrder",
        "deals": "DealOrder",
        "activities": "ActivityOrder",
        "contracts": "ContractOrder",
    }[root]


async def test_a_nested_list_without_order_keeps_its_own(api: Api) -> None:
    """A company's contacts by last name, deals newest first, unless asked otherwise."""
    (company,) = await seed_companies(api, 1)
    for last_name in ("Zander", "abel", "Meier"):
        await api.data(CREATE_CONTACT, {"i": {"lastName": last_name, "companyId": company}})
    query = """query($order: ContactOrder, $id: ID!) { company(id: $id) {
      contacts(orderBy: $order) { edges { node { lastName } } } } }"""
    own = nodes((await api.data(query, {"id": company}))["company"]["contacts"])
    assert [c["lastName"] for c in own] == ["abel", "Meier", "Zander"]
    desc = {"field": "LAST_NAME", "direction": "DESC"}
    asked = nodes((await api.data(query, {"order": desc, "id": company}))["company"]["contacts"])
    assert [c["lastName"] for c in asked] == ["Zander", "Meier", "abel"]


# --- plans under row-level security ---------------------------------------------------------


async def tenant_plan(scope: TenantScope, statement: sa.Select[Any]) -> str:
    """EXPLAIN of a page as the tenant role, as a request reads (Reading.begin), with PostgreSQL
    told to avoid sorting and sequential scans (tables this small would be read whole)."""
    sql = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    async with scope.reading() as reads:
        await reads.execute(sa.text("SET LOCAL enable_seqscan = off"))
        await reads.execute(sa.text("SET LOCAL enable_sort = off"))
        return "\n".join((await reads.execute(sa.text(f"EXPLAIN {sql}"))).scalars())


async def test_a_nullable_date_order_reads_its_index_in_order_under_row_security(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Deals by expected close date, NULLs last, after a cursor with a date and after one with
    a NULL: the (tenant_id, expected_close_date, id) index read in order, nothing sorted
    (the order by COALESCE(date, 9999-12-31) it replaces sorted all the tenant's deals for
    every page). After a NULL, the cursor is an index condition; after a date, the page is
    read in two parts, the dates after the cursor's and the NULLs, each an index range
    (tests/test_keyset_plans.py asserts the conditions), merged in order."""
    scope = await new_scope(sessions)
    cursor_id = uuid.uuid4()
    for value in (date(2026, 3, 1), None):
        after = encode_cursor("Deal.expectedCloseDate", value and value.isoformat(), cursor_id)
        query = deals_page(
            DealQuery(PageRequest(first=20, after=after), order=DealOrderField.EXPECTED_CLOSE_DATE)
        )
        plan = await tenant_plan(scope, query.statement(query.entity.columns))
        assert "ix_deal_tenant_id_expected_close" in plan, plan
        assert "Sort  (" not in plan, plan  # a Merge Append of the parts, no Sort node


async def test_one_request_may_ask_a_nested_list_in_two_orders(
    api: Api, sql: StatementCounter, compiled_sql: StatementCounter
) -> None:
    """Aliases of one nested list in different orders each get theirs: a statement per
    order asked (the loader and the compiled statement are kept per order)."""
    companies = await seed_companies(api, 2)
    for company in companies:
        for last_name in ("Zander", "abel", "Meier"):
            await api.data(CREATE_CONTACT, {"i": {"lastName": last_name, "companyId": company}})
    query = """{ companies { edges { node {
      up: contacts(orderBy: {field: LAST_NAME}) { edges { node { lastName } } }
      down: contacts(orderBy: {field: LAST_NAME, direction: DESC}) { edges { node { lastName } } }
      own: contacts { edges { node { lastName } } } } } } }"""
    sql.statements.clear()
    compiled_sql.statements.clear()
    for edge in (await api.data(query))["companies"]["edges"]:
        node = edge["node"]
        assert [c["lastName"] for c in nodes(node["up"])] == ["abel", "Meier", "Zander"]
        assert [c["lastName"] for c in nodes(node["down"])] == ["Zander", "Meier", "abel"]
        assert node["own"] == node["up"]
    # The executor: `own` is `up`'s order (by last name), the same page of the same loader;
    # the compiled path reads each alias's level in a statement of its own.
    assert sql.count == 1 + 2
    assert compiled_sql.count == 1 + 3


async def test_owners_sort_by_role_time_and_user_name_on_both_paths(api: Api) -> None:
    users = {}
    for role in ("viewer", "member", "admin"):  # users named Viewer, Member, Admin
        me = await api.data("{ me { user { id name } } }", role=role)
        users[me["me"]["user"]["name"]] = me["me"]["user"]["id"]
    (company,) = await seed_companies(api, 1)
    add = "mutation($c: ID!, $u: ID!, $r: OwnerRole!) { addCompanyOwner(companyId: $c, userId: $u, role: $r) { id } }"
    for name, role in (("Member", "WATCHER"), ("Viewer", "OWNER"), ("Admin", "MEMBER")):
        await api.data(add, {"c": company, "u": users[name], "r": role})
    query = """query($order: OwnerOrder) { companies { edges { node {
      owners(orderBy: $order) { role user { name } } } } } }"""

    async def names(field: str | None, direction: str = "ASC") -> list[str]:
        order = None if field is None else {"field": field, "direction": direction}
        (edge,) = (await api.data(query, {"order": order}))["companies"]["edges"]
        return [owner["user"]["name"] for owner in edge["node"]["owners"]]

    assert await names(None) == ["Viewer", "Admin", "Member"]  # its own: OWNER first
    assert await names("ROLE", "DESC") == ["Member", "Admin", "Viewer"]
    assert await names("USER_NAME") == ["Admin", "Member", "Viewer"]
    assert await names("USER_NAME", "DESC") == ["Viewer", "Member", "Admin"]
    assert await names("CREATED_AT", "DESC") == ["Admin", "Viewer", "Member"]
