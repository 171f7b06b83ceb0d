"""Deleting a company, contact or deal for good (purgeX, after deleteX moved it to the trash)
or a pipeline (its deals): the activities that nothing else links go with it (each a
crm.activity.purged); those linked elsewhere keep those links and stay in those feeds; two
purges at once leave none linked to nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from app.settings import Settings
from tests.conftest import Api, Servers, Tokens, _asyncpg_dsn, error_codes, serving
from tests.test_activities import activity, company, contact
from tests.test_db_resilience import holding
from tests.test_deals import deal, pipeline
from tests.test_events import events, last_id

FEED = """query($f: ActivityFilter) { activities(filter: $f, first: 50) {
  edges { node { id subject company { id } contact { id } deal { id } } } } }"""
ONE = "query($id: ID!) { activity(id: $id) { id } }"


async def feed(api: Api, **filter_: Any) -> list[str]:
    data = await api.data(FEED, {"f": filter_})
    return [edge["node"]["subject"] for edge in data["activities"]["edges"]]


async def exists(api: Api, activity_id: str) -> bool:
    result = await api(ONE, {"id": activity_id})
    if error_codes(result) == ["NOT_FOUND"]:
        return False
    assert "errors" not in result, result["errors"]
    return True


async def delete(api: Api, kind: str, record_id: str) -> None:
    """Deleted for good: a pipeline at once, a record into the trash and purged from there."""
    name = kind.capitalize()
    await api.data(f"mutation($id: ID!) {{ delete{name}(id: $id) }}", {"id": record_id})
    if kind != "pipeline":
        await api.data(f"mutation($id: ID!) {{ purge{name}(id: $id) }}", {"id": record_id})


async def test_deleting_a_company_deletes_the_activities_only_it_linked(api: Api) -> None:
    await pipeline(api)
    firm = await company(api)
    person = await contact(api, firm)
    sale = (await deal(api, companyId=firm))["id"]
    alone = await activity(api, subject="Nur Firma", companyId=firm)
    with_person = await activity(api, subject="Mit Kontakt", companyId=firm, contactId=person)
    with_deal = await activity(api, subject="Mit Deal", companyId=firm, dealId=sale)
    before = await last_id(api)

    await delete(api, "company", firm)

    assert not await exists(api, alone["id"])
    assert await feed(api, contactId=person) == ["Mit Kontakt"]
    assert await feed(api, dealId=sale) == ["Mit Deal"]
    happened = await events(api, after=before, first=50)
    by_type = {(e["type"], e["entityId"]): e["changes"] for e in happened}
    removed = by_type[("crm.activity.purged", alone["id"])]
    assert removed["subject"] == ["Nur Firma", None]
    assert removed["companyId"] == [firm, None]
    for kept in (with_person, with_deal):
        assert by_type[("crm.activity.updated", kept["id"])] == {"companyId": [firm, None]}
    assert ("crm.activity.purged", with_person["id"]) not in by_type
    # Every event of the purge is committed with it, the company's own last.
    assert happened[0]["type"] == "crm.company.deleted"  # into the trash first
    assert happened[-1]["type"] == "crm.company.purged"


async def test_deleting_a_contact_deletes_the_activities_only_it_linked(api: Api) -> None:
    await pipeline(api)
    person = await contact(api)
    sale = (await deal(api, contactId=person))["id"]
    alone = await activity(api, subject="Nur Kontakt", contactId=person)
    await activity(api, subject="Mit Deal", contactId=person, dealId=sale)
    before = await last_id(api)

    await delete(api, "contact", person)

    assert not await exists(api, alone["id"])
    assert await feed(api, dealId=sale) == ["Mit Deal"]
    types = [e["type"] for e in await events(api, after=before, first=50)]
    assert types == [
        "crm.contact.deleted",  # into the trash
        "crm.deal.updated",  # unlinked from the contact when it is purged
        "crm.activity.purged",  # "Nur Kontakt"
        "crm.activity.updated",  # "Mit Deal", unlinked from the contact
        "crm.contact.purged",
    ]


async def test_deleting_a_deal_deletes_an_activity_left_to_it_alone(api: Api) -> None:
    """An activity of a deleted company that stayed for its deal has nothing else once the
    deal goes: it goes too. One that still has its contact stays in the contact's feed."""
    await pipeline(api)
    firm = await company(api)
    person = await contact(api)
    sale = (await deal(api, companyId=firm))["id"]
    left_to_deal = await activity(api, subject="Nur noch Deal", companyId=firm, dealId=sale)
    await activity(api, subject="Mit Kontakt", contactId=person, dealId=sale)
    await delete(api, "company", firm)
    assert sorted(await feed(api, dealId=sale)) == ["Mit Kontakt", "Nur noch Deal"]

    await delete(api, "deal", sale)

    assert not await exists(api, left_to_deal["id"])
    assert await feed(api, contactId=person) == ["Mit Kontakt"]


async def test_deleting_a_pipeline_deletes_its_deals_activities_as_deleting_each_deal_would(
    api: Api,
) -> None:
    """The deals go with their pipeline (the foreign key's cascade), but not silently: each
    one's activities are treated first, as deleteDeal treats them, with their events."""
    await pipeline(api)
    service = (await pipeline(api, "Service"))["id"]
    firm = await company(api)
    person = await contact(api)
    sale = (await deal(api, companyId=firm, pipelineId=service))["id"]
    other = (await deal(api, contactId=person, pipelineId=service))["id"]
    left_to_deal = await activity(api, subject="Nur noch Deal", companyId=firm, dealId=sale)
    with_person = await activity(api, subject="Mit Kontakt", contactId=person, dealId=other)
    await delete(api, "company", firm)
    before = await last_id(api)

    await delete(api, "pipeline", service)

    assert not await exists(api, left_to_deal["id"])
    assert await feed(api, contactId=person) == ["Mit Kontakt"]
    happened = [
        (e["type"], e["entityId"], e["changes"]) for e in await events(api, after=before, first=50)
    ]
    removed = next(
        c for t, i, c in happened if (t, i) == ("crm.activity.purged", left_to_deal["id"])
    )
    assert removed["dealId"] == [sale, None] and removed["subject"] == ["Nur noch Deal", None]
    assert ("crm.activity.updated", with_person["id"], {"dealId": [other, None]}) in happened
    assert sorted(t for t, *_ in happened) == [
        "crm.activity.purged",
        "crm.activity.updated",
        "crm.deal.purged",  # gone for good with their pipeline, not into the trash
        "crm.deal.purged",
        "crm.pipeline.deleted",
    ]
    assert happened[-1][0] == "crm.pipeline.deleted"


async def until_waiting(database_url: str, statement_part: str) -> None:
    """Until a backend of this database waits on a lock in a statement that says this."""
    connection = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        async with asyncio.timeout(20):
            while True:
                waiting = await connection.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND strpos(query, $1) > 0",
                    statement_part,
                )
                if waiting:
                    return
                await asyncio.sleep(0.02)
    finally:
        await connection.close()


async def test_deleting_a_company_and_a_contact_at_once_leaves_no_activity_linked_to_nothing(
    settings: Settings, servers: Servers, tokens: Tokens, tenant: str
) -> None:
    """purgeContact has unlinked the activity (not committed: a second connection holds
    the contact, so its DELETE of the contact waits), then purgeCompany reaches the same
    activity and waits for its lock. When purgeContact commits, purgeCompany works on the
    activity as purgeContact left it: linked to its company only, so it goes."""
    patient = settings.model_copy(update={"db_lock_timeout_seconds": 30})
    async with serving(patient) as http:
        api = Api(http, tokens, tenant)
        firm = await company(api)
        person = await contact(api)  # not of that company
        both = await activity(api, subject="Beide", companyId=firm, contactId=person)
        before = await last_id(api)
        hold = "SELECT FROM contact WHERE id = $1 FOR KEY SHARE"
        async with holding(servers.database_url, hold, person):
            contact_gone = asyncio.create_task(delete(api, "contact", person))
            await until_waiting(servers.database_url, "DELETE FROM contact")
            company_gone = asyncio.create_task(delete(api, "company", firm))
            await until_waiting(servers.database_url, "UPDATE activity")
        await asyncio.gather(contact_gone, company_gone)

        assert not await exists(api, both["id"])
        happened = [
            (e["type"], e["entityId"], e["changes"])
            for e in await events(api, after=before, first=50)
        ]
        assert [(t, c) for t, i, c in happened if i == both["id"]] == [
            ("crm.activity.updated", {"contactId": [person, None]}),
            ("crm.activity.purged", {
                "type": ["CALL", None], "subject": ["Beide", None], "companyId": [firm, None],
            }),
        ]  # fmt: skip
