"""Industries, account types and relationship types: admin writes, everyone reads."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.services.lookups.rules import MAX_ENTRIES
from app.settings import Settings
from tests.conftest import Api, error_codes, error_fields, serving

CREATE_INDUSTRY = "mutation($i: IndustryInput!) { createIndustry(input: $i) { id name color } }"
UPDATE_INDUSTRY = """mutation($id: ID!, $i: UpdateIndustryInput!) {
  updateIndustry(id: $id, input: $i) { id name color } }"""
CREATE_COMPANY = """mutation($i: CreateCompanyInput!) { createCompany(input: $i) {
  id industry { id name color } accountType { id name } } }"""


async def industry(api: Api, name: str = "Maschinenbau", color: str | None = "#2f6fde") -> Any:
    return (await api.data(CREATE_INDUSTRY, {"i": {"name": name, "color": color}}))[
        "createIndustry"
    ]


async def test_admin_manages_industries_and_everyone_reads_them(api: Api) -> None:
    created = await industry(api)
    assert created["color"] == "#2F6FDE"
    renamed = await api.data(UPDATE_INDUSTRY, {"id": created["id"], "i": {"name": "Anlagenbau"}})
    assert renamed["updateIndustry"] == {**created, "name": "Anlagenbau"}
    await industry(api, "Handel", None)
    listed = await api.data("{ industries { name } }", role="viewer")
    assert [i["name"] for i in listed["industries"]] == ["Anlagenbau", "Handel"]


@pytest.mark.parametrize("role", ["member", "viewer"])
async def test_only_admins_write_lookups(api: Api, role: str) -> None:
    for mutation, variables in (
        (CREATE_INDUSTRY, {"i": {"name": "X"}}),
        ('mutation { createAccountType(input: {name: "Kunde"}) { id } }', {}),
        ('mutation { createRelationshipType(input: {name: "Mutter"}) { id } }', {}),
    ):
        assert error_codes(await api(mutation, variables, role=role)) == ["FORBIDDEN"]
    assert (await api.data("{ industries { id } accountTypes { id } }"))["industries"] == []


async def test_names_are_unique_ignoring_case_with_a_clear_conflict(api: Api, tenant: str) -> None:
    await industry(api, "Logistik")
    result = await api(CREATE_INDUSTRY, {"i": {"name": "LOGISTIK"}})
    assert error_codes(result) == ["CONFLICT"]
    assert "already exists" in result["errors"][0]["message"]
    # Another tenant may use the same name.
    assert "errors" not in await api(
        CREATE_INDUSTRY, {"i": {"name": "Logistik"}}, tenant=f"{tenant}-2"
    )


@pytest.mark.parametrize(
    ("value", "field"), [({"name": ""}, "name"), ({"name": "X", "color": "blue"}, "color")]
)
async def test_invalid_industry_is_refused(api: Api, value: dict[str, Any], field: str) -> None:
    result = await api(CREATE_INDUSTRY, {"i": value})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert field in error_fields(result)


async def test_company_shows_its_industry_and_account_type(api: Api) -> None:
    branch = await industry(api)
    kind = await api.data('mutation { createAccountType(input: {name: "Kunde"}) { id } }')
    kind_id = kind["createAccountType"]["id"]
    company = (
        await api.data(
            CREATE_COMPANY,
            {"i": {"name": "A", "industryId": branch["id"], "accountTypeId": kind_id}},
        )
    )["createCompany"]
    assert company["industry"] == branch
    assert company["accountType"] == {"id": kind_id, "name": "Kunde"}


async def test_deleting_an_industry_in_use_clears_it_on_companies(api: Api) -> None:
    branch = await industry(api)
    company = await api.data(CREATE_COMPANY, {"i": {"name": "A", "industryId": branch["id"]}})
    await api.data("mutation($id: ID!) { deleteIndustry(id: $id) }", {"id": branch["id"]})
    fetched = await api.data(
        "query($id: ID!) { company(id: $id) { industry { id } industryId } }",
        {"id": company["createCompany"]["id"]},
    )
    assert fetched["company"] == {"industry": None, "industryId": None}


async def test_another_tenants_industry_cannot_be_used_or_changed(api: Api, tenant: str) -> None:
    foreign = await industry(api)
    other = f"{tenant}-x"
    result = await api(
        CREATE_COMPANY, {"i": {"name": "A", "industryId": foreign["id"]}}, tenant=other
    )
    assert error_codes(result) == ["NOT_FOUND"]
    changed = await api(UPDATE_INDUSTRY, {"id": foreign["id"], "i": {"name": "Y"}}, tenant=other)
    assert error_codes(changed) == ["NOT_FOUND"]
    assert (await api.data("{ industries { name } }"))["industries"] == [{"name": "Maschinenbau"}]


async def test_nested_industries_of_a_page_load_in_one_batch(api: Api) -> None:
    branches = [await industry(api, f"Branche {i}") for i in range(3)]
    for i in range(6):
        await api.data(
            CREATE_COMPANY, {"i": {"name": f"C{i}", "industryId": branches[i % 3]["id"]}}
        )
    data = await api.data("{ companies { edges { node { name industry { name } } } } }")
    names = {e["node"]["name"]: e["node"]["industry"]["name"] for e in data["companies"]["edges"]}
    assert names == {f"C{i}": f"Branche {i % 3}" for i in range(6)}


async def test_single_lookup_queries(api: Api, tenant: str) -> None:
    created = await industry(api)
    found = await api.data("query($id: ID!) { industry(id: $id) { name } }", {"id": created["id"]})
    assert found["industry"] == {"name": "Maschinenbau"}
    foreign = await api(
        "query($id: ID!) { industry(id: $id) { name } }",
        {"id": created["id"]},
        tenant=f"{tenant}-l",
    )
    assert error_codes(foreign) == ["NOT_FOUND"]


async def test_a_lookup_list_holds_at_most_what_the_query_cost_counts(
    api: Api, settings: Settings
) -> None:
    """Lists read whole, costed at MAX_PAGE_SIZE whatever an admin had created: now each
    holds at most 200, and is costed so, whatever MAX_PAGE_SIZE is. The last places are taken
    by concurrent creates: exactly as many as are free succeed."""

    async def create(n: int) -> dict[str, Any]:
        return await api(CREATE_INDUSTRY, {"i": {"name": f"Branche {n}"}})

    for start in range(0, MAX_ENTRIES - 5, 15):
        assert all(
            "errors" not in r for r in await asyncio.gather(*map(create, range(start, start + 15)))
        )
    last = await asyncio.gather(*map(create, range(MAX_ENTRIES - 5, MAX_ENTRIES + 10)))
    assert sorted(tuple(error_codes(r)) for r in last) == [()] * 5 + [("BAD_USER_INPUT",)] * 10
    # which of the concurrent creates got the free places is up to the database
    assert all(error_fields(r) == {"name"} for r in last if error_codes(r))
    listed = await api("{ industries { id } }")
    assert len(listed["data"]["industries"]) == MAX_ENTRIES
    async with serving(settings.model_copy(update={"max_page_size": 50})) as http:
        small_pages = await Api(http, api.tokens, api.tenant)("{ industries { id } }")
    assert (
        small_pages["extensions"]["cost"] == MAX_ENTRIES == len(small_pages["data"]["industries"])
    )
