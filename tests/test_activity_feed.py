"""What the company feed holds (`activities(filter: {companyId, includeContacts: true})`),
unchanged by reading it as two index scans (app/services/activities/feed.py): each activity
once, the trash hidden, composed with every other filter and with NOT, paged in each order
to the same rows. The plans: tests/test_activity_feed_plans.py."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.test_activities import activity, company, contact

PAGE = """query($f: ActivityFilter, $o: ActivityOrder, $first: Int, $after: String) {
  activities(filter: $f, orderBy: $o, first: $first, after: $after) {
    totalCount edges { cursor node { subject } } pageInfo { hasNextPage endCursor } } }"""
ORDERS = ["CREATED_AT", "DUE_AT", "UPDATED_AT", "COMPLETED_AT", "SUBJECT", "TYPE"]


async def _subjects(api: Api, filter_: dict[str, Any]) -> list[str]:
    data = await api.data(PAGE, {"f": filter_, "first": 100})
    found = data["activities"]
    assert found["totalCount"] == len(found["edges"])
    return sorted(edge["node"]["subject"] for edge in found["edges"])


async def _seeded(api: Api) -> tuple[str, str, str]:
    """A company with a contact, another company and its contact, a contact of no company,
    and activities between them; returns the company, its contact and the other company."""
    firm, other = await company(api, "Feed AG"), await company(api, "Andere KG")
    person, stranger = await contact(api, firm, "Eigen"), await contact(api, other, "Fremd")
    loner = await contact(api, None, "Allein")
    await activity(api, subject="firm", companyId=firm)
    await activity(api, subject="firm+person", companyId=firm, contactId=person)
    await activity(api, subject="person", contactId=person, dueAt="2026-03-01T09:00:00Z")
    # on the other company, with a contact of ours: in both feeds
    await activity(api, subject="other+person", companyId=other, contactId=person, type="NOTE")
    await activity(api, subject="firm+stranger", companyId=firm, contactId=stranger)
    await activity(api, subject="stranger", contactId=stranger)
    await activity(api, subject="loner", contactId=loner)
    return firm, person, other


async def test_the_feed_holds_each_activity_once_and_composes(api: Api) -> None:
    firm, person, other = await _seeded(api)
    feed = {"companyId": firm, "includeContacts": True}
    mine = ["firm", "firm+person", "firm+stranger", "other+person", "person"]
    assert await _subjects(api, feed) == mine
    own = ["firm", "firm+person", "firm+stranger"]
    assert await _subjects(api, {"companyId": firm, "includeContacts": False}) == own
    theirs = ["firm+stranger", "other+person", "stranger"]
    assert await _subjects(api, {"companyId": other, "includeContacts": True}) == theirs
    # composed: with a plain filter, inside AND, OR and NOT
    assert await _subjects(api, {**feed, "type": ["NOTE"]}) == ["other+person"]
    assert await _subjects(api, {"and": [feed, {"contactId": person}]}) == [
        "firm+person",
        "other+person",
        "person",
    ]
    assert await _subjects(api, {"or": [feed, {"contactId": person}]}) == mine
    either = await _subjects(api, {"or": [{"companyId": other, "includeContacts": True}, feed]})
    assert either == sorted({*mine, *theirs})
    # NOT: everything else of the tenant, activities of no company included
    assert await _subjects(api, {"not": feed}) == ["loner", "stranger"]
    assert await _subjects(api, {"not": {"not": feed}}) == mine
    assert await _subjects(api, {**feed, "overdue": True}) == ["person"]


async def test_the_feed_hides_the_trash(api: Api) -> None:
    firm, person, _ = await _seeded(api)
    feed = {"companyId": firm, "includeContacts": True}
    trashed = await activity(api, subject="trashed", companyId=firm)
    await api.data("mutation($id: ID!) { deleteActivity(id: $id) }", {"id": trashed["id"]})
    assert "trashed" not in await _subjects(api, feed)
    # a trashed contact's activities leave the feed (those on the company itself stay)
    await api.data("mutation($id: ID!) { deleteContact(id: $id) }", {"id": person})
    assert await _subjects(api, feed) == ["firm", "firm+person", "firm+stranger"]


async def test_every_order_pages_through_the_same_feed(api: Api) -> None:
    firm, _, _ = await _seeded(api)
    feed = {"companyId": firm, "includeContacts": True}
    everything = await _subjects(api, feed)
    for field in ORDERS:
        for direction in ("ASC", "DESC"):
            seen: list[str] = []
            after = None
            while True:
                variables = {"f": feed, "o": {"field": field, "direction": direction}}
                data = await api.data(PAGE, {**variables, "first": 2, "after": after})
                found = data["activities"]
                assert found["totalCount"] == len(everything)
                seen += [edge["node"]["subject"] for edge in found["edges"]]
                if not found["pageInfo"]["hasNextPage"]:
                    break
                after = found["pageInfo"]["endCursor"]
            assert sorted(seen) == everything, (field, direction, seen)
