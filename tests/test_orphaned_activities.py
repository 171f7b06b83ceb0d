"""Deleting a company, contact or deal: its activities that nothing else links go with it
(each a crm.activity.deleted, as deleteActivity emits); those linked elsewhere keep those
links and stay in those feeds."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, error_codes
from tests.test_activities import activity, company, contact
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
    name = f"delete{kind.capitalize()}"
    await api.data(f"mutation($id: ID!) {{ {name}(id: $id) }}", {"id": record_id})


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
    removed = by_type[("crm.activity.deleted", alone["id"])]
    assert removed["subject"] == ["Nur Firma", None]
    assert removed["companyId"] == [firm, None]
    for kept in (with_person, with_deal):
        assert by_type[("crm.activity.updated", kept["id"])] == {"companyId": [firm, None]}
    assert ("crm.activity.deleted", with_person["id"]) not in by_type
    # Every event of the delete is committed with it, the company's own last.
    assert happened[-1]["type"] == "crm.company.deleted"


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
        "crm.deal.updated",  # unlinked from the contact
        "crm.activity.deleted",  # "Nur Kontakt"
        "crm.activity.updated",  # "Mit Deal", unlinked from the contact
        "crm.contact.deleted",
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
