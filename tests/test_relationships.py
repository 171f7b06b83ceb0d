"""Company-to-company relationships and contracts."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, error_codes, error_fields
from tests.factories import nodes

RELATE = """mutation($a: ID!, $b: ID!, $t: ID!) {
  createCompanyRelationship(fromCompanyId: $a, toCompanyId: $b, typeId: $t, notes: "seit 2019") {
    relationship { id direction otherCompany { name } type { name inverseName } } } }"""
REL_OF = """query($id: ID!) { company(id: $id) { relationships { edges { node {
  direction otherCompany { name } type { name } notes } } } } }"""
CONTRACT = """mutation($i: CreateContractInput!) { createContract(input: $i) {
  id title startDate endDate value currency status } }"""


async def company(api: Api, name: str) -> str:
    data = await api.data(
        "mutation($n: String!) { createCompany(input: {name: $n}) { id } }", {"n": name}
    )
    company_id: str = data["createCompany"]["id"]
    return company_id


async def kind(api: Api, name: str = "Mutter", inverse: str = "Tochter") -> str:
    data = await api.data(
        """mutation($n: String!, $i: String) {
          createRelationshipType(input: {name: $n, inverseName: $i}) { id } }""",
        {"n": name, "i": inverse},
    )
    type_id: str = data["createRelationshipType"]["id"]
    return type_id


async def test_relationship_shows_from_both_sides(api: Api) -> None:
    holding, daughter, type_id = (
        await company(api, "Holding AG"),
        await company(api, "Tochter GmbH"),
        await kind(api),
    )
    created = (await api.data(RELATE, {"a": holding, "b": daughter, "t": type_id}))[
        "createCompanyRelationship"
    ]["relationship"]
    assert created["direction"] == "OUTGOING" and created["otherCompany"] == {
        "name": "Tochter GmbH"
    }
    seen_from_daughter = nodes(
        (await api.data(REL_OF, {"id": daughter}))["company"]["relationships"]
    )
    assert seen_from_daughter == [
        {
            "direction": "INCOMING",
            "otherCompany": {"name": "Holding AG"},
            "type": {"name": "Mutter"},
            "notes": "seit 2019",
        }
    ]


async def test_no_self_relationship_and_no_duplicate_in_either_direction(api: Api) -> None:
    a, b, type_id = await company(api, "A"), await company(api, "B"), await kind(api)
    self_relation = await api(RELATE, {"a": a, "b": a, "t": type_id})
    assert error_codes(self_relation) == ["BAD_USER_INPUT"]
    await api.data(RELATE, {"a": a, "b": b, "t": type_id})
    duplicate = await api(RELATE, {"a": b, "b": a, "t": type_id})
    assert error_codes(duplicate) == ["CONFLICT"]
    other_type = await kind(api, "Partner", None)
    assert "errors" not in await api(RELATE, {"a": b, "b": a, "t": other_type})


async def test_relationship_needs_both_companies_in_the_callers_tenant(
    api: Api, tenant: str
) -> None:
    mine, type_id = await company(api, "Meine"), await kind(api)
    other = f"{tenant}-r"
    created = await api.data(
        'mutation { createCompany(input: {name: "Deren"}) { id } }', tenant=other
    )
    theirs = created["createCompany"]["id"]
    result = await api(RELATE, {"a": mine, "b": theirs, "t": type_id})
    assert error_codes(result) == ["NOT_FOUND"]


async def test_relationship_type_in_use_cannot_be_deleted(api: Api) -> None:
    a, b, type_id = await company(api, "A"), await company(api, "B"), await kind(api)
    created = (await api.data(RELATE, {"a": a, "b": b, "t": type_id}))["createCompanyRelationship"][
        "relationship"
    ]
    delete_type = "mutation($id: ID!) { deleteRelationshipType(id: $id) }"
    assert error_codes(await api(delete_type, {"id": type_id})) == ["CONFLICT"]
    await api.data(
        "mutation($id: ID!) { deleteCompanyRelationship(id: $id) { removedId } }",
        {"id": created["id"]},
    )
    assert (await api.data(delete_type, {"id": type_id}))["deleteRelationshipType"] == type_id


async def test_contracts_crud_and_date_rule(api: Api) -> None:
    company_id = await company(api, "Vertragspartner GmbH")
    base: dict[str, Any] = {
        "companyId": company_id,
        "title": "Wartungsvertrag",
        "startDate": "2027-01-01",
    }
    created = (
        await api.data(CONTRACT, {"i": {**base, "endDate": "2027-12-31", "value": "4800.00"}})
    )["createContract"]
    assert (created["currency"], created["status"], created["value"]) == ("EUR", "DRAFT", "4800.00")
    backwards = await api(CONTRACT, {"i": {**base, "endDate": "2026-12-31"}})
    assert error_codes(backwards) == ["BAD_USER_INPUT"] and "endDate" in error_fields(backwards)
    update = """mutation($id: ID!, $i: UpdateContractInput!) {
      updateContract(id: $id, input: $i) { status endDate } }"""
    bad_update = await api(update, {"id": created["id"], "i": {"endDate": "2026-06-30"}})
    assert error_codes(bad_update) == ["BAD_USER_INPUT"]
    active = await api.data(update, {"id": created["id"], "i": {"status": "ACTIVE"}})
    assert active["updateContract"] == {"status": "ACTIVE", "endDate": "2027-12-31"}
    nested = await api.data(
        "query($id: ID!) { company(id: $id) { contracts { edges { node { title } } } } }",
        {"id": company_id},
    )
    assert nodes(nested["company"]["contracts"]) == [{"title": "Wartungsvertrag"}]
    listed = await api.data(
        "{ contracts(filter: {status: [ACTIVE]}) { totalCount edges { node { id } } } }"
    )
    assert listed["contracts"]["totalCount"] == 1
    assert listed["contracts"]["edges"] == [{"node": {"id": created["id"]}}]
    await api.data("mutation($id: ID!) { deleteCompany(id: $id) }", {"id": company_id})
    assert (await api.data("{ contracts { totalCount } }"))["contracts"]["totalCount"] == 0


async def test_contracts_page_by_end_date_with_open_ended_last(api: Api) -> None:
    company_id = await company(api, "Laufzeit GmbH")
    for title, end in (("Offen", None), ("Spät", "2029-06-30"), ("Früh", "2027-03-31")):
        await api.data(CONTRACT, {"i": {"companyId": company_id, "title": title, "endDate": end}})
    query = """query($a: String) { contracts(first: 2, after: $a) {
      edges { node { title } } pageInfo { hasNextPage endCursor } } }"""
    first = (await api.data(query))["contracts"]
    rest = (await api.data(query, {"a": first["pageInfo"]["endCursor"]}))["contracts"]
    titles = [e["node"]["title"] for e in first["edges"] + rest["edges"]]
    assert titles == ["Früh", "Spät", "Offen"]
    ending = await api.data(
        '{ contracts(filter: {endsTo: "2028-01-01", search: "fr"}) { totalCount } }'
    )
    assert ending["contracts"]["totalCount"] == 1


async def test_relationship_query_list_and_update(api: Api) -> None:
    a, b, c = await company(api, "A"), await company(api, "B"), await company(api, "C")
    parent, partner = await kind(api), await kind(api, "Partner", None)
    ab = (await api.data(RELATE, {"a": a, "b": b, "t": parent}))["createCompanyRelationship"][
        "relationship"
    ]
    await api.data(RELATE, {"a": c, "b": a, "t": partner})
    single = await api.data(
        "query($id: ID!) { companyRelationship(id: $id) { fromCompanyId toCompanyId direction } }",
        {"id": ab["id"]},
    )
    assert single["companyRelationship"] == {
        "fromCompanyId": a,
        "toCompanyId": b,
        "direction": "OUTGOING",
    }
    listed = await api.data(
        "query($c: ID!) { companyRelationships(filter: {companyId: $c}) { totalCount edges { node { direction otherCompany { name } } } } }",
        {"c": a},
    )
    assert listed["companyRelationships"]["totalCount"] == 2
    assert [e["node"]["direction"] for e in listed["companyRelationships"]["edges"]] == [
        "OUTGOING",
        "INCOMING",
    ]
    updated = await api.data(
        'mutation($id: ID!, $t: ID!) { updateCompanyRelationship(id: $id, typeId: $t, notes: "neu") { relationship { type { name } } } }',
        {"id": ab["id"], "t": partner},
    )
    assert updated["updateCompanyRelationship"]["relationship"]["type"] == {"name": "Partner"}
    # B -> A as "Mutter" is free again; changing A -> B back to "Mutter" would duplicate it.
    await api.data(RELATE, {"a": b, "b": a, "t": parent})
    clash = await api(
        "mutation($id: ID!, $t: ID!) { updateCompanyRelationship(id: $id, typeId: $t) { relationship { id } } }",
        {"id": ab["id"], "t": parent},
    )
    assert error_codes(clash) == ["CONFLICT"]


async def test_nested_lists_take_a_per_parent_limit(api: Api) -> None:
    hub, type_id = await company(api, "Hub"), await kind(api)
    for index in range(3):
        await api.data(RELATE, {"a": hub, "b": await company(api, f"S{index}"), "t": type_id})
        await api.data(CONTRACT, {"i": {"companyId": hub, "title": f"V{index}"}})
    data = await api.data(
        "query($id: ID!) { company(id: $id) { relationships(first: 2) { edges { node { id } } } "
        "contracts(first: 1) { totalCount edges { node { id } } } owners(first: 1) { role } } }",
        {"id": hub},
    )
    contracts = data["company"]["contracts"]
    assert (len(nodes(data["company"]["relationships"])), len(contracts["edges"])) == (2, 1)
    assert contracts["totalCount"] == 3
    too_many = await api(
        "query($id: ID!) { company(id: $id) { owners(first: 201) { role } } }", {"id": hub}
    )
    assert error_codes(too_many) == ["BAD_USER_INPUT"]


async def test_relationships_list_newest_first(api: Api) -> None:
    a, type_id = await company(api, "Zentrale"), await kind(api)
    for name in ("Erste", "Zweite"):
        await api.data(RELATE, {"a": a, "b": await company(api, name), "t": type_id})
    query = """{ companyRelationships(orderBy: {direction: DESC}) {
      edges { node { otherCompany { name } } } } }"""
    data = await api.data(query)
    assert [e["node"]["otherCompany"]["name"] for e in data["companyRelationships"]["edges"]] == [
        "Zweite",
        "Erste",
    ]
