"""The company slice end to end: CRUD, validation, partial updates, pages, filters, isolation."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import orjson
import pytest

from tests.conftest import Api, error_codes, error_fields

FIELDS = """id name website status vatId taxId tradeRegisterNumber registerCourt companySize
tags notes version industryId createdAt updatedAt
billingAddress { street zip city countryCode } deliveryAddress { city countryCode }"""
CREATE = f"mutation($input: CreateCompanyInput!) {{ createCompany(input: $input) {{ {FIELDS} }} }}"
UPDATE = f"""mutation($id: ID!, $input: UpdateCompanyInput!, $v: Int) {{
  updateCompany(id: $id, input: $input, expectedVersion: $v) {{ {FIELDS} }} }}"""
GET = f"query($id: ID!) {{ company(id: $id) {{ {FIELDS} }} }}"
DELETE = "mutation($id: ID!) { deleteCompany(id: $id) }"
LIST = """query($first: Int, $after: String, $filter: CompanyFilter, $order: CompanyOrder) {
  companies(first: $first, after: $after, filter: $filter, orderBy: $order) {
    totalCount edges { cursor node { id name status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
COUNT = "{ companies { totalCount } }"


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    data = await api.data(CREATE, {"input": {"name": "Muster GmbH", **fields}})
    company: dict[str, Any] = data["createCompany"]
    return company


async def count(api: Api) -> int:
    total: int = (await api.data(COUNT))["companies"]["totalCount"]
    return total


async def test_create_and_read_a_company_with_all_fields(api: Api) -> None:
    created = await create(
        api,
        name="  Müller Maschinenbau GmbH ",
        website="www.mueller-maschinenbau.de",
        vatId="de 811 907 980",
        taxId="143/123/45678",
        tradeRegisterNumber="HRB 12345",
        registerCourt="Amtsgericht Stuttgart",
        companySize="MEDIUM",
        status="INACTIVE",
        tags=["ERP", "Key Account", "ERP"],
        notes="Rahmenvertrag läuft bis 2027.",
        billingAddress={"street": "Königstraße 12", "zip": "70173", "city": "Stuttgart"},
        deliveryAddress={"city": "Wien", "countryCode": "at"},
    )
    assert created["name"] == "Müller Maschinenbau GmbH"
    assert created["website"] == "https://www.mueller-maschinenbau.de"
    assert created["vatId"] == "DE811907980"
    assert created["tags"] == ["ERP", "Key Account"]
    assert created["billingAddress"]["countryCode"] == "DE"
    assert created["deliveryAddress"] == {"city": "Wien", "countryCode": "AT"}
    assert created["version"] == 1
    fetched = (await api.data(GET, {"id": created["id"]}))["company"]
    assert fetched == created


async def test_defaults_of_a_new_company(api: Api) -> None:
    created = await create(api)
    assert created["status"] == "ACTIVE"
    assert created["tags"] == []
    assert created["billingAddress"] is None


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"vatId": "123456789"}, "vatId"),
        ({"vatId": "DE12345"}, "vatId"),
        ({"website": "not a url"}, "website"),
        ({"website": "ftp://files.example.de"}, "website"),
        ({"taxId": "1" * 31}, "taxId"),
        (
            {"billingAddress": {"city": "Berlin", "countryCode": "Deutschland"}},
            "billingAddress.countryCode",
        ),
        ({"billingAddress": {"zip": "1" * 21}}, "billingAddress.zip"),
        ({"tags": ["x" * 51]}, "tags"),
        ({"tags": [f"t{i}" for i in range(51)]}, "tags"),
        ({"notes": "n" * 20_001}, "notes"),
        ({"industryId": "not-a-uuid"}, "industryId"),
    ],
)
async def test_invalid_input_is_refused_and_nothing_is_written(
    api: Api, fields: dict[str, Any], bad_field: str
) -> None:
    result = await api(CREATE, {"input": {"name": "Muster GmbH", **fields}})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert bad_field in error_fields(result)
    assert await count(api) == 0


async def test_every_bad_field_is_reported_at_once(api: Api) -> None:
    result = await api(CREATE, {"input": {"name": "", "vatId": "nope", "website": "nope"}})
    assert error_fields(result) == {"name", "vatId", "website"}


async def test_missing_name_and_unknown_fields_are_refused_by_the_schema(api: Api) -> None:
    for bad in ({}, {"name": "X", "tenantId": str(uuid.uuid4())}):
        result = await api(CREATE, {"input": bad})
        assert error_codes(result) == ["BAD_USER_INPUT"]
    assert await count(api) == 0


async def test_update_changes_only_the_fields_sent(api: Api) -> None:
    created = await create(api, website="https://a.de", notes="keep me", tags=["A"])
    updated = (await api.data(UPDATE, {"id": created["id"], "input": {"name": "Neu AG"}}))[
        "updateCompany"
    ]
    assert updated["name"] == "Neu AG"
    assert (updated["website"], updated["notes"], updated["tags"]) == (
        "https://a.de",
        "keep me",
        ["A"],
    )
    assert updated["version"] == 2
    assert updated["updatedAt"] > created["updatedAt"]


async def test_empty_update_changes_nothing_not_even_the_version(api: Api) -> None:
    created = await create(api)
    same = (await api.data(UPDATE, {"id": created["id"], "input": {}, "v": 1}))["updateCompany"]
    assert same == created
    stale = await api(UPDATE, {"id": created["id"], "input": {}, "v": 7})
    assert error_codes(stale) == ["CONFLICT"]


async def test_update_with_null_clears_a_nullable_field(api: Api) -> None:
    created = await create(api, website="https://a.de", billingAddress={"city": "Köln"})
    result = await api.data(
        UPDATE, {"id": created["id"], "input": {"website": None, "billingAddress": None}}
    )
    assert result["updateCompany"]["website"] is None
    assert result["updateCompany"]["billingAddress"] is None


async def test_update_cannot_clear_a_required_field(api: Api) -> None:
    created = await create(api)
    for field in ("name", "status", "tags"):
        result = await api(UPDATE, {"id": created["id"], "input": {field: None}})
        assert error_codes(result) == ["BAD_USER_INPUT"]
        assert field in error_fields(result)
    assert (await api.data(GET, {"id": created["id"]}))["company"] == created


async def test_invalid_update_leaves_the_company_as_it_was(api: Api) -> None:
    created = await create(api, vatId="DE811907980")
    result = await api(UPDATE, {"id": created["id"], "input": {"name": "Ok", "vatId": "XX"}})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert (await api.data(GET, {"id": created["id"]}))["company"] == created


async def test_stale_version_is_a_conflict_and_changes_nothing(api: Api) -> None:
    created = await create(api)
    await api.data(UPDATE, {"id": created["id"], "input": {"notes": "first"}, "v": 1})
    result = await api(UPDATE, {"id": created["id"], "input": {"notes": "second"}, "v": 1})
    assert error_codes(result) == ["CONFLICT"]
    assert result["errors"][0]["extensions"]["currentVersion"] == 2
    assert (await api.data(GET, {"id": created["id"]}))["company"]["notes"] == "first"


async def test_delete_removes_the_company(api: Api) -> None:
    created = await create(api)
    assert (await api.data(DELETE, {"id": created["id"]}))["deleteCompany"] == created["id"]
    assert error_codes(await api(GET, {"id": created["id"]})) == ["NOT_FOUND"]
    assert error_codes(await api(DELETE, {"id": created["id"]})) == ["NOT_FOUND"]


async def test_malformed_id_is_bad_input(api: Api) -> None:
    assert error_codes(await api(GET, {"id": "42"})) == ["BAD_USER_INPUT"]


async def test_pages_follow_the_cursor_without_gaps_or_repeats(api: Api) -> None:
    names = [f"Firma {letter}" for letter in "EDCBAGF"]
    for name in names:
        await create(api, name=name)
    seen: list[str] = []
    after = None
    while True:
        page = (await api.data(LIST, {"first": 3, "after": after}))["companies"]
        assert page["totalCount"] == 7
        seen += [edge["node"]["name"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(names)


async def test_order_by_name_is_case_insensitive_and_reversible(api: Api) -> None:
    for name in ("beta", "Alpha", "gamma"):
        await create(api, name=name)
    asc = await api.data(LIST, {"order": {"field": "NAME", "direction": "ASC"}})
    desc = await api.data(LIST, {"order": {"field": "NAME", "direction": "DESC"}})
    ascending = [e["node"]["name"] for e in asc["companies"]["edges"]]
    assert ascending == ["Alpha", "beta", "gamma"]
    assert [e["node"]["name"] for e in desc["companies"]["edges"]] == ascending[::-1]


async def test_order_by_creation_time(api: Api) -> None:
    for name in ("first", "second", "third"):
        await create(api, name=name)
    data = await api.data(LIST, {"order": {"field": "CREATED_AT", "direction": "DESC"}, "first": 2})
    assert [e["node"]["name"] for e in data["companies"]["edges"]] == ["third", "second"]
    after = data["companies"]["pageInfo"]["endCursor"]
    more = await api.data(
        LIST, {"order": {"field": "CREATED_AT", "direction": "DESC"}, "after": after}
    )
    assert [e["node"]["name"] for e in more["companies"]["edges"]] == ["first"]


@pytest.mark.parametrize("value", [5, ["x"], None])
async def test_forged_cursor_with_a_wrong_value_type_is_bad_input(api: Api, value: Any) -> None:
    raw = orjson.dumps(["name", value, str(uuid.uuid4())])
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    result = await api(LIST, {"after": cursor})
    assert error_codes(result) == ["BAD_USER_INPUT"]


async def test_cursor_of_another_order_is_refused(api: Api) -> None:
    await create(api)
    await create(api, name="Zweite GmbH")
    page = await api.data(LIST, {"first": 1})
    cursor = page["companies"]["pageInfo"]["endCursor"]
    result = await api(LIST, {"after": cursor, "order": {"field": "CREATED_AT"}})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert "after" in error_fields(result)


async def test_filter_by_status_and_search(api: Api) -> None:
    await create(api, name="Schmidt Logistik GmbH")
    await create(api, name="Schmidt & Partner", status="BLOCKED")
    await create(api, name="Weber AG", vatId="DE129273398")
    await create(api, name="100% Bio GmbH")

    async def names(filter_: dict[str, Any]) -> list[str]:
        data = await api.data(LIST, {"filter": filter_})
        assert data["companies"]["totalCount"] == len(data["companies"]["edges"])
        return [e["node"]["name"] for e in data["companies"]["edges"]]

    assert await names({"search": "schmidt"}) == ["Schmidt & Partner", "Schmidt Logistik GmbH"]
    assert await names({"search": "SCHMIDT", "status": ["ACTIVE"]}) == ["Schmidt Logistik GmbH"]
    assert await names({"status": ["BLOCKED", "INACTIVE"]}) == ["Schmidt & Partner"]
    assert await names({"search": "129273"}) == ["Weber AG"]
    assert await names({"search": "100%"}) == ["100% Bio GmbH"]
    assert await names({"search": "%"}) == []  # only punctuation: no word to search for


async def test_too_long_search_is_refused(api: Api) -> None:
    result = await api(LIST, {"filter": {"search": "x" * 201}})
    assert error_codes(result) == ["BAD_USER_INPUT"]


async def test_another_tenants_company_is_not_found_in_reads_and_writes(
    api: Api, tenant: str
) -> None:
    other = f"{tenant}-other"
    mine = await create(api, name="Meine GmbH")
    missing = str(uuid.uuid4())
    for operation, variables in (
        (GET, {"id": mine["id"]}),
        (UPDATE, {"id": mine["id"], "input": {"name": "Gekapert"}}),
        (DELETE, {"id": mine["id"]}),
    ):
        foreign = await api(operation, variables, tenant=other)
        absent = await api(operation, {**variables, "id": missing}, tenant=other)
        assert error_codes(foreign) == ["NOT_FOUND"]
        assert foreign["errors"][0]["message"] == absent["errors"][0]["message"]
    assert (await api.data(COUNT, tenant=other))["companies"]["totalCount"] == 0
    assert (await api.data(GET, {"id": mine["id"]}))["company"] == mine


async def test_lists_never_include_another_tenants_rows(api: Api, tenant: str) -> None:
    await create(api, name="Tenant A GmbH")
    other = f"{tenant}-b"
    await api.data(CREATE, {"input": {"name": "Tenant B GmbH"}}, tenant=other)
    a = await api.data(LIST, {"filter": {"search": "Tenant"}})
    b = await api.data(LIST, {"filter": {"search": "Tenant"}}, tenant=other)
    assert [e["node"]["name"] for e in a["companies"]["edges"]] == ["Tenant A GmbH"]
    assert [e["node"]["name"] for e in b["companies"]["edges"]] == ["Tenant B GmbH"]


async def test_unknown_industry_is_not_found_and_nothing_is_written(api: Api) -> None:
    result = await api(CREATE, {"input": {"name": "X", "industryId": str(uuid.uuid4())}})
    assert error_codes(result) == ["NOT_FOUND"]
    assert result["errors"][0]["message"] == "Industry not found."
    assert await count(api) == 0
