"""Rules that only show under odd input or concurrency (found in review)."""

from __future__ import annotations

import asyncio
import base64
import uuid
from typing import Any

import orjson
import pytest

from tests.conftest import Api, error_codes, error_fields

STAGES = [
    {"name": "Neu"},
    {"name": "Gewonnen", "kind": "WON", "probability": 100},
    {"name": "Auch gewonnen", "kind": "WON", "probability": 100},
    {"name": "Verloren", "kind": "LOST"},
]
PIPELINE = """mutation($i: CreatePipelineInput!) { createPipeline(input: $i) {
  id isDefault stages { id name } } }"""
DEAL = """mutation($i: CreateDealInput!) { createDeal(input: $i) {
  id status closedAt lostReason stage { name } } }"""
UPDATE_DEAL = """mutation($id: ID!, $i: UpdateDealInput!, $v: Int) {
  updateDeal(id: $id, input: $i, expectedVersion: $v) {
    status closedAt lostReason lostReasonText stage { name } pipeline { id } version } }"""


async def board(api: Api, name: str = "Vertrieb", stages: list[Any] = STAGES) -> dict[str, Any]:
    created: dict[str, Any] = (await api.data(PIPELINE, {"i": {"name": name, "stages": stages}}))[
        "createPipeline"
    ]
    created["by_name"] = {s["name"]: s["id"] for s in created["stages"]}
    return created


def cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(parts))).decode().rstrip("=")


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("mutation($t: String!) { createCompany(input: {name: $t}) { id } }", {"t": "a\x00b"}),
        (
            'mutation($t: [String!]) { createCompany(input: {name: "X", tags: $t}) { id } }',
            {"t": ["\x00"]},
        ),
        ("query($s: String) { contacts(filter: {search: $s}) { totalCount } }", {"s": "\x00"}),
        ("query($s: String) { users(search: $s) { id } }", {"s": "x\x00"}),
        ('{ deals(filter: {valueMin: "1e999"}) { totalCount } }', {}),
        (
            "query($a: String) { deals(after: $a, orderBy: {field: VALUE}) { totalCount } }",
            {"a": cursor("value", "abc", str(uuid.uuid4()))},
        ),
        (
            "query($a: String) { deals(after: $a, orderBy: {field: VALUE}) { totalCount } }",
            {"a": cursor("value", "1e99999", str(uuid.uuid4()))},
        ),
        (  # a text cursor value PostgreSQL cannot hold
            "query($a: String) { companies(after: $a) { edges { node { id } } } }",
            {"a": cursor("name", "a\x00", str(uuid.uuid4()))},
        ),
        (
            "query($a: String) { companies(after: $a, orderBy: {field: CREATED_AT}) { totalCount } }",
            {"a": cursor("createdAt", "0001-01-01T00:00:00+14:00", str(uuid.uuid4()))},
        ),
    ],
)
async def test_odd_input_is_bad_input_not_a_server_error(
    api: Api, query: str, variables: dict[str, Any]
) -> None:
    assert error_codes(await api(query, variables)) == ["BAD_USER_INPUT"]


async def test_duplicate_owner_in_a_new_deal_is_bad_input(api: Api) -> None:
    await board(api)
    me = (await api.data("{ me { user { id } } }"))["me"]["user"]["id"]
    result = await api(DEAL, {"i": {"title": "X", "owners": [{"userId": me}, {"userId": me}]}})
    assert error_codes(result) == ["BAD_USER_INPUT"] and "owners" in error_fields(result)


async def test_concurrent_first_emails_leave_exactly_one_primary(api: Api) -> None:
    created = await api.data('mutation { createContact(input: {lastName: "Parallel"}) { id } }')
    contact_id = created["createContact"]["id"]
    add = """mutation($c: ID!, $e: String!) { addContactEmail(contactId: $c, input: {email: $e}) {
      email { id } } }"""
    results = await asyncio.gather(
        *(api(add, {"c": contact_id, "e": f"p{i}@x.de"}) for i in range(6))
    )
    assert all("errors" not in r for r in results)
    emails = await api.data(
        "query($c: ID!) { contact(id: $c) { emails { id isPrimary } } }", {"c": contact_id}
    )
    primary = [e for e in emails["contact"]["emails"] if e["isPrimary"]]
    assert len(emails["contact"]["emails"]) == 6 and len(primary) == 1
    switch = "mutation($id: ID!) { setPrimaryEmail(id: $id) { email { id } } }"
    others = [e["id"] for e in emails["contact"]["emails"]][:4]
    switched = await asyncio.gather(*(api(switch, {"id": email_id}) for email_id in others))
    assert all("errors" not in r for r in switched)
    emails = await api.data(
        "query($c: ID!) { contact(id: $c) { emails { isPrimary } } }", {"c": contact_id}
    )
    assert sum(e["isPrimary"] for e in emails["contact"]["emails"]) == 1


async def test_concurrent_pipelines_all_created_with_one_default(api: Api) -> None:
    results = await asyncio.gather(
        *(api(PIPELINE, {"i": {"name": f"P{i}", "stages": STAGES}}) for i in range(4))
    )
    assert all("errors" not in r for r in results)
    edges = (await api.data("{ pipelines { edges { node { isDefault } } } }"))["pipelines"]["edges"]
    pipelines = [edge["node"] for edge in edges]
    assert len(pipelines) == 4 and sum(p["isDefault"] for p in pipelines) == 1


async def test_phone_duplicates_compare_digits_and_values_are_capped(api: Api) -> None:
    created = await api.data(
        'mutation { createContact(input: {lastName: "Tel", phones: [{phone: "+49 30 123"}]}) { id } }'
    )
    contact_id = created["createContact"]["id"]
    add = "mutation($c: ID!, $p: String!) { addContactPhone(contactId: $c, input: {phone: $p}) { phone { id } } }"
    assert error_codes(await api(add, {"c": contact_id, "p": "+4930123"})) == ["CONFLICT"]
    for index in range(19):
        await api.data(add, {"c": contact_id, "p": f"+49 40 {index:04}"})
    assert error_codes(await api(add, {"c": contact_id, "p": "+49 89 1234567"})) == [
        "BAD_USER_INPUT"
    ]


async def test_stage_kind_cannot_change_under_its_deals(api: Api) -> None:
    pipeline = await board(api)
    await api.data(DEAL, {"i": {"title": "X"}})
    change = "mutation($id: ID!, $k: StageKind!) { updatePipelineStage(id: $id, input: {kind: $k}) { stage { kind } } }"
    refused = await api(change, {"id": pipeline["by_name"]["Neu"], "k": "LOST"})
    assert error_codes(refused) == ["CONFLICT"]
    empty = await api.data(change, {"id": pipeline["by_name"]["Verloren"], "k": "WON"})
    assert empty["updatePipelineStage"] == {"stage": {"kind": "WON"}}


async def test_removing_a_won_stage_moves_its_deals_to_a_won_stage_keeping_history(
    api: Api,
) -> None:
    pipeline = await board(api)
    won = (await api.data(DEAL, {"i": {"title": "X", "stageId": pipeline["by_name"]["Gewonnen"]}}))[
        "createDeal"
    ]
    remove = "mutation($id: ID!, $to: ID) { removePipelineStage(id: $id, moveDealsTo: $to) { removedId } }"
    wrong_kind = await api(
        remove, {"id": pipeline["by_name"]["Gewonnen"], "to": pipeline["by_name"]["Neu"]}
    )
    assert error_codes(wrong_kind) == ["BAD_USER_INPUT"]
    await api.data(
        remove, {"id": pipeline["by_name"]["Gewonnen"], "to": pipeline["by_name"]["Auch gewonnen"]}
    )
    after = await api.data(
        "query($id: ID!) { deal(id: $id) { status closedAt stage { name } } }", {"id": won["id"]}
    )
    assert after["deal"] == {
        "status": "WON",
        "closedAt": won["closedAt"],
        "stage": {"name": "Auch gewonnen"},
    }


async def test_status_needs_a_stage_of_its_kind_and_survives_a_pipeline_change(api: Api) -> None:
    await board(api)
    plain = await board(api, "Nur offen", [{"name": "Offen"}])
    both = await board(api, "Mit Abschluss", [{"name": "Offen"}, {"name": "Zu", "kind": "WON"}])
    deal = (await api.data(DEAL, {"i": {"title": "X"}}))["createDeal"]
    won = (await api.data(UPDATE_DEAL, {"id": deal["id"], "i": {"status": "WON"}}))["updateDeal"]
    no_won_stage = await api(UPDATE_DEAL, {"id": deal["id"], "i": {"pipelineId": plain["id"]}})
    assert error_codes(no_won_stage) == ["BAD_USER_INPUT"] and "status" in error_fields(
        no_won_stage
    )
    moved = (await api.data(UPDATE_DEAL, {"id": deal["id"], "i": {"pipelineId": both["id"]}}))[
        "updateDeal"
    ]
    assert (moved["status"], moved["stage"]["name"], moved["closedAt"]) == (
        "WON",
        "Zu",
        won["closedAt"],
    )


async def test_stale_deal_version_is_a_conflict(api: Api) -> None:
    await board(api)
    deal = (await api.data(DEAL, {"i": {"title": "X"}}))["createDeal"]
    await api.data(UPDATE_DEAL, {"id": deal["id"], "i": {"title": "Y"}, "v": 1})
    stale = await api(UPDATE_DEAL, {"id": deal["id"], "i": {"title": "Z"}, "v": 1})
    assert error_codes(stale) == ["CONFLICT"]


async def test_moving_a_lost_deal_to_an_open_stage_clears_the_reason(api: Api) -> None:
    pipeline = await board(api)
    lost = await api.data(
        DEAL,
        {
            "i": {
                "title": "X",
                "status": "LOST",
                "lostReason": "OTHER",
                "lostReasonText": "zu teuer",
            }
        },
    )
    deal_id = lost["createDeal"]["id"]
    assert lost["createDeal"]["stage"]["name"] == "Verloren"
    moved = await api.data(
        "mutation($id: ID!, $s: ID!) { moveDealToStage(id: $id, stageId: $s) { status lostReason lostReasonText closedAt } }",
        {"id": deal_id, "s": pipeline["by_name"]["Neu"]},
    )
    assert moved["moveDealToStage"] == {
        "status": "OPEN",
        "lostReason": None,
        "lostReasonText": None,
        "closedAt": None,
    }


async def test_overdue_false_keeps_activities_without_a_due_date(api: Api) -> None:
    company = (await api.data('mutation { createCompany(input: {name: "A"}) { id } }'))[
        "createCompany"
    ]["id"]
    await api.data(
        'mutation($c: ID!) { createActivity(input: {type: NOTE, subject: "Notiz", companyId: $c}) { id } }',
        {"c": company},
    )
    data = await api.data("{ activities(filter: {overdue: false}) { edges { node { subject } } } }")
    assert [e["node"]["subject"] for e in data["activities"]["edges"]] == ["Notiz"]


async def test_the_company_feed_pages_without_gaps(api: Api) -> None:
    company = (await api.data('mutation { createCompany(input: {name: "A"}) { id } }'))[
        "createCompany"
    ]["id"]
    contact = (
        await api.data(
            'mutation($c: ID!) { createContact(input: {lastName: "K", companyId: $c}) { id } }',
            {"c": company},
        )
    )["createContact"]["id"]
    create = "mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }"
    for index in range(5):
        link = {"companyId": company} if index % 2 else {"contactId": contact}
        await api.data(create, {"i": {"type": "NOTE", "subject": f"A{index}", **link}})
    feed = """query($c: ID!, $a: String) { activities(first: 2, after: $a,
      filter: {companyId: $c, includeContacts: true}) {
      totalCount edges { node { subject } } pageInfo { hasNextPage endCursor } } }"""
    seen, after = [], None
    while True:
        page = (await api.data(feed, {"c": company, "a": after}))["activities"]
        assert page["totalCount"] == 5
        seen += [e["node"]["subject"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["A4", "A3", "A2", "A1", "A0"]


async def test_deleting_an_account_type_clears_it_on_companies(api: Api) -> None:
    kind = (await api.data('mutation { createAccountType(input: {name: "Kunde"}) { id } }'))[
        "createAccountType"
    ]["id"]
    company = (
        await api.data(
            'mutation($k: ID!) { createCompany(input: {name: "A", accountTypeId: $k}) { id } }',
            {"k": kind},
        )
    )["createCompany"]["id"]
    await api.data("mutation($id: ID!) { deleteAccountType(id: $id) }", {"id": kind})
    data = await api.data(
        "query($id: ID!) { company(id: $id) { accountType { id } } }", {"id": company}
    )
    assert data["company"]["accountType"] is None


async def test_relationship_with_another_tenants_type_is_not_found(api: Api, tenant: str) -> None:
    foreign = (
        await api.data(
            'mutation { createRelationshipType(input: {name: "T"}) { id } }', tenant=f"{tenant}-t"
        )
    )["createRelationshipType"]["id"]
    a = (await api.data('mutation { createCompany(input: {name: "A"}) { id } }'))["createCompany"][
        "id"
    ]
    b = (await api.data('mutation { createCompany(input: {name: "B"}) { id } }'))["createCompany"][
        "id"
    ]
    result = await api(
        "mutation($a: ID!, $b: ID!, $t: ID!) { createCompanyRelationship(fromCompanyId: $a, toCompanyId: $b, typeId: $t) { relationship { id } } }",
        {"a": a, "b": b, "t": foreign},
    )
    assert error_codes(result) == ["NOT_FOUND"]


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
async def test_timestamps_beyond_the_storable_range_are_bad_input(api: Api, moment: str) -> None:
    company = await api(
        'mutation($m: DateTime) { createCompany(input: {name: "X", dataEnrichedAt: $m}) { id } }',
        {"m": moment},
    )
    assert error_codes(company) == ["BAD_USER_INPUT"] and "dataEnrichedAt" in error_fields(company)
    contact = (await api.data('mutation { createContact(input: {lastName: "K"}) { id } }'))[
        "createContact"
    ]["id"]
    activity = await api(
        'mutation($m: DateTime, $c: ID!) { createActivity(input: {type: TASK, subject: "X", contactId: $c, dueAt: $m}) { id } }',
        {"m": moment, "c": contact},
    )
    assert error_codes(activity) == ["BAD_USER_INPUT"] and "dueAt" in error_fields(activity)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ('{ companies(filter: {tag: "a\\u0000b"}) { totalCount } }', "filter.tag"),
        ('{ contacts(filter: {department: "\\u0000"}) { totalCount } }', "filter.department"),
        (
            '{ companies(filter: {createdFrom: "9999-12-31T23:59:59-14:00"}) { totalCount } }',
            "filter.createdFrom",
        ),
        (
            '{ activities(filter: {dueTo: "0001-01-01T00:00:00+14:00"}) { totalCount } }',
            "filter.dueTo",
        ),
    ],
)
async def test_filter_values_sql_cannot_take_are_bad_input(
    api: Api, query: str, field: str
) -> None:
    result = await api(query)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert field in error_fields(result)
