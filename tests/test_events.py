"""Domain events: what each operation stores in the outbox, and the events/history queries."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, error_codes, error_fields
from tests.test_deals import deal, pipeline, stage

EVENTS = """query($after: ID, $types: [String!], $entityId: ID, $first: Int) {
  events(after: $after, types: $types, entityId: $entityId, first: $first) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id type entity entityId actorId actor { id } occurredAt changes } } } }"""


async def events(api: Api, **variables: Any) -> list[dict[str, Any]]:
    data = await api.data(EVENTS, variables)
    return [edge["node"] for edge in data["events"]["edges"]]


async def types_after(api: Api, after: str | None) -> list[str]:
    return [e["type"] for e in await events(api, after=after, first=200)]


async def last_id(api: Api) -> str | None:
    listed = await events(api, first=200)
    return listed[-1]["id"] if listed else None


async def test_company_create_update_delete_carry_their_changes(api: Api) -> None:
    created = await api.data(
        'mutation { createCompany(input: {name: "Muster GmbH", emails: [{email: "info@muster.de"}]}) { id } }'
    )
    company_id = created["createCompany"]["id"]
    await api.data(
        'mutation($id: ID!) { updateCompany(id: $id, input: {name: "Muster AG", website: "https://muster.de"}) { id } }',
        {"id": company_id},
    )
    await api.data("mutation($id: ID!) { deleteCompany(id: $id) }", {"id": company_id})
    stored = await events(api, entityId=company_id)
    assert [e["type"] for e in stored] == [
        "crm.company.created",
        "crm.company.updated",
        "crm.company.deleted",
    ]
    create, update, delete = stored
    assert create["entity"] == "company" and create["entityId"] == company_id
    assert create["changes"]["name"] == [None, "Muster GmbH"]
    assert create["changes"]["emails"] == [
        None,
        [{"email": "info@muster.de", "type": "WORK", "isPrimary": True}],
    ]
    assert update["changes"] == {
        "name": ["Muster GmbH", "Muster AG"],
        "website": [None, "https://muster.de"],
    }
    assert delete["changes"]["name"] == ["Muster AG", None]
    me = await api.data("{ me { user { id } } }")
    assert {e["actorId"] for e in stored} == {me["me"]["user"]["id"]}
    assert stored[0]["actor"]["id"] == me["me"]["user"]["id"]
    ids = [int(e["id"]) for e in stored]
    assert ids == sorted(ids) and len(set(ids)) == 3


async def test_ids_count_up_per_tenant_without_gaps(api: Api) -> None:
    for name in ("A", "B", "C"):
        await api.data(
            "mutation($n: String!) { createCompany(input: {name: $n}) { id } }", {"n": name}
        )
    failed = await api('mutation { createCompany(input: {name: ""}) { id } }')
    assert error_codes(failed) == ["BAD_USER_INPUT"]
    assert [e["id"] for e in await events(api)] == ["1", "2", "3"]
    other = await api.data(EVENTS, {}, tenant="another-" + api.tenant)
    assert other["events"]["edges"] == []


async def test_deal_moves_emit_stage_won_lost_and_reopened(api: Api) -> None:
    board = await pipeline(api)
    created = await deal(api, value="1000")
    after = await last_id(api)
    move = "mutation($id: ID!, $s: ID!, $r: LostReason) { moveDealToStage(id: $id, stageId: $s, lostReason: $r) { id } }"
    await api.data(move, {"id": created["id"], "s": stage(board, "Angebot")})
    await api.data(move, {"id": created["id"], "s": stage(board, "Gewonnen")})
    await api.data(move, {"id": created["id"], "s": stage(board, "Verloren"), "r": "PRICE"})
    await api.data(move, {"id": created["id"], "s": stage(board, "Angebot")})
    assert await types_after(api, after) == [
        "crm.deal.updated",
        "crm.deal.stage_changed",
        "crm.deal.updated",
        "crm.deal.stage_changed",
        "crm.deal.won",
        "crm.deal.updated",
        "crm.deal.stage_changed",
        "crm.deal.lost",
        "crm.deal.updated",
        "crm.deal.stage_changed",
        "crm.deal.reopened",
    ]
    won = (await events(api, types=["crm.deal.won"]))[0]
    assert won["entityId"] == created["id"]
    assert won["changes"]["status"] == ["OPEN", "WON"]
    assert won["changes"]["stageId"] == [stage(board, "Angebot"), stage(board, "Gewonnen")]


async def test_owner_relationship_and_activity_events(api: Api) -> None:
    me = (await api.data("{ me { user { id } } }"))["me"]["user"]["id"]
    a = (await api.data('mutation { createCompany(input: {name: "A", owners: []}) { id } }'))[
        "createCompany"
    ]["id"]
    b = (await api.data('mutation { createCompany(input: {name: "B"}) { id } }'))["createCompany"][
        "id"
    ]
    rel_type = await api.data(
        'mutation { createRelationshipType(input: {name: "Partner"}) { id } }'
    )
    after = await last_id(api)
    await api.data(
        "mutation($c: ID!, $u: ID!) { addCompanyOwner(companyId: $c, userId: $u) { id } }",
        {"c": a, "u": me},
    )
    await api.data(
        "mutation($c: ID!, $u: ID!) { removeCompanyOwner(companyId: $c, userId: $u) { id } }",
        {"c": a, "u": me},
    )
    rel = await api.data(
        "mutation($a: ID!, $b: ID!, $t: ID!) { createCompanyRelationship(fromCompanyId: $a, toCompanyId: $b, typeId: $t) { relationship { id } } }",
        {"a": a, "b": b, "t": rel_type["createRelationshipType"]["id"]},
    )
    await api.data(
        "mutation($id: ID!) { deleteCompanyRelationship(id: $id) { removedId } }",
        {"id": rel["createCompanyRelationship"]["relationship"]["id"]},
    )
    activity = await api.data(
        'mutation($c: ID!) { createActivity(input: {type: TASK, subject: "Anrufen", companyId: $c}) { id } }',
        {"c": a},
    )
    await api.data(
        "mutation($id: ID!) { completeActivity(id: $id) { id } }",
        {"id": activity["createActivity"]["id"]},
    )
    assert await types_after(api, after) == [
        "crm.company.owner_added",
        "crm.company.owner_removed",
        "crm.company.relationship_added",
        "crm.company.relationship_removed",
        "crm.activity.created",
        "crm.activity.updated",
        "crm.activity.completed",
    ]
    owner_added = (await events(api, types=["crm.company.owner_added"]))[0]
    assert owner_added["entityId"] == a
    assert owner_added["changes"]["userId"] == [None, me]
    history = await api.data(
        "query($id: ID!) { company(id: $id) { history(first: 3) { edges { node { type } } } } }",
        {"id": a},
    )
    assert [e["node"]["type"] for e in history["company"]["history"]["edges"]] == [
        "crm.company.relationship_removed",
        "crm.company.relationship_added",
        "crm.company.owner_removed",
    ]


async def test_a_rolled_back_change_emits_nothing(api: Api) -> None:
    board = await pipeline(api)
    created = await deal(api)
    before = await last_id(api)
    # LOST without a reason is refused inside the unit of work, after the row was locked.
    refused = await api(
        "mutation($id: ID!, $s: ID!) { moveDealToStage(id: $id, stageId: $s) { id } }",
        {"id": created["id"], "s": stage(board, "Verloren")},
    )
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    stale = await api(
        'mutation($id: ID!) { updateDeal(id: $id, input: {title: "x"}, expectedVersion: 99) { id } }',
        {"id": created["id"]},
    )
    assert error_codes(stale) == ["CONFLICT"]
    assert await last_id(api) == before


async def test_deleting_a_pipeline_emits_its_deals_deletion(api: Api) -> None:
    board = await pipeline(api)
    first, second = await deal(api), await deal(api)
    # One in the trash: it goes with its pipeline too, as purged (not silently).
    await api.data("mutation($id: ID!) { deleteDeal(id: $id) }", {"id": second["id"]})
    after = await last_id(api)
    await api.data("mutation($id: ID!) { deletePipeline(id: $id) }", {"id": board["id"]})
    stored = await events(api, after=after)
    deals = sorted([first["id"], second["id"]])
    assert [(e["type"], e["entityId"]) for e in stored] == [
        ("crm.deal.purged", deals[0]),  # gone for good, not into the trash
        ("crm.deal.purged", deals[1]),
        ("crm.pipeline.deleted", board["id"]),
    ]


async def test_event_filters_and_paging(api: Api) -> None:
    for name in ("A", "B", "C"):
        await api.data(
            "mutation($n: String!) { createCompany(input: {name: $n}) { id } }", {"n": name}
        )
    page = await api.data(EVENTS, {"first": 2, "types": ["crm.company.*"]})
    assert page["events"]["totalCount"] == 3
    assert page["events"]["pageInfo"] == {"hasNextPage": True, "endCursor": "2"}
    rest = await events(api, after="2", types=["crm.company.created"])
    assert [e["id"] for e in rest] == ["3"]
    assert await events(api, types=["crm.deal.won"]) == []
    bad = await api(EVENTS, {"types": ["DROP TABLE"], "after": "x"})
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    assert error_fields(bad) & {"types[0]", "after"}
    assert error_codes(await api(EVENTS, {"after": "-1"})) == ["BAD_USER_INPUT"]


async def test_deleting_a_record_emits_the_changes_it_makes_to_others(api: Api) -> None:
    industry = await api.data('mutation { createIndustry(input: {name: "Maschinenbau"}) { id } }')
    industry_id = industry["createIndustry"]["id"]
    gone = await api.data(
        'mutation($i: ID!) { createCompany(input: {name: "Geht", industryId: $i}) { id } }',
        {"i": industry_id},
    )
    gone_id = gone["createCompany"]["id"]
    partner = (await api.data('mutation { createCompany(input: {name: "Bleibt"}) { id } }'))[
        "createCompany"
    ]["id"]
    contact = await api.data(
        'mutation($c: ID!) { createContact(input: {firstName: "Eva", lastName: "Roth", companyId: $c}) { id version } }',
        {"c": gone_id},
    )
    rel_type = await api.data(
        'mutation { createRelationshipType(input: {name: "Lieferant"}) { id } }'
    )
    await api.data(
        "mutation($a: ID!, $b: ID!, $t: ID!) { createCompanyRelationship(fromCompanyId: $a, toCompanyId: $b, typeId: $t) { relationship { id } } }",
        {"a": partner, "b": gone_id, "t": rel_type["createRelationshipType"]["id"]},
    )
    await api.data("mutation($id: ID!) { deleteCompany(id: $id) }", {"id": gone_id})
    after = await last_id(api)  # in the trash: purging it makes the changes a delete made
    await api.data("mutation($id: ID!) { purgeCompany(id: $id) }", {"id": gone_id})
    stored = await events(api, after=after)
    assert [(e["type"], e["entityId"], e["changes"]) for e in stored[:2]] == [
        ("crm.contact.updated", contact["createContact"]["id"], {"companyId": [gone_id, None]}),
        ("crm.company.relationship_removed", partner, stored[1]["changes"]),
    ]
    assert stored[1]["changes"]["toCompanyId"] == [gone_id, None]
    assert stored[2]["type"] == "crm.company.purged"
    reloaded = await api.data(
        "query($id: ID!) { contact(id: $id) { company { id } version } }",
        {"id": contact["createContact"]["id"]},
    )
    assert reloaded["contact"] == {
        "company": None,
        "version": contact["createContact"]["version"] + 1,
    }

    after = await last_id(api)
    survivor = await api.data(
        'mutation($i: ID!) { createCompany(input: {name: "Mit Branche", industryId: $i}) { id } }',
        {"i": industry_id},
    )
    await api.data("mutation($id: ID!) { deleteIndustry(id: $id) }", {"id": industry_id})
    stored = await events(api, after=after)
    assert [(e["type"], e["entityId"]) for e in stored[1:]] == [
        ("crm.company.updated", survivor["createCompany"]["id"]),
        ("crm.industry.deleted", industry_id),
    ]
