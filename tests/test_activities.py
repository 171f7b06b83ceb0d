"""Activities: the contact-or-company rule, completion, filters and the company feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Api, error_codes, error_fields

FIELDS = """id type subject dueAt completedAt version contact { lastName } company { name }
assignee { id }"""
CREATE = f"mutation($i: CreateActivityInput!) {{ createActivity(input: $i) {{ {FIELDS} }} }}"
UPDATE = f"""mutation($id: ID!, $i: UpdateActivityInput!) {{
  updateActivity(id: $id, input: $i) {{ {FIELDS} }} }}"""
LIST = """query($f: ActivityFilter, $o: ActivityOrder, $first: Int) {
  activities(filter: $f, orderBy: $o, first: $first) { totalCount edges { node { subject } } } }"""


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


async def company(api: Api, name: str = "Feed GmbH") -> str:
    data = await api.data(
        "mutation($n: String!) { createCompany(input: {name: $n}) { id } }", {"n": name}
    )
    company_id: str = data["createCompany"]["id"]
    return company_id


async def contact(api: Api, company_id: str | None = None, name: str = "Kontakt") -> str:
    data = await api.data(
        """mutation($c: ID, $n: String!) {
          createContact(input: {lastName: $n, companyId: $c}) { id } }""",
        {"c": company_id, "n": name},
    )
    contact_id: str = data["createContact"]["id"]
    return contact_id


async def activity(api: Api, **fields: Any) -> dict[str, Any]:
    data = await api.data(CREATE, {"i": {"type": "CALL", "subject": "Anruf", **fields}})
    created: dict[str, Any] = data["createActivity"]
    return created


async def test_create_with_contact_and_company(api: Api) -> None:
    company_id = await company(api)
    contact_id = await contact(api, company_id)
    me = (await api.data("{ me { user { id } } }"))["me"]["user"]["id"]
    created = await activity(
        api, contactId=contact_id, companyId=company_id, assigneeId=me, dueAt=iso(timedelta(days=1))
    )
    assert created["contact"] == {"lastName": "Kontakt"}
    assert created["company"] == {"name": "Feed GmbH"}
    assert created["assignee"] == {"id": me}


async def test_activity_needs_a_contact_or_a_company_on_create_and_update(api: Api) -> None:
    result = await api(CREATE, {"i": {"type": "NOTE", "subject": "Lose"}})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert {"contactId", "companyId"} <= error_fields(result)
    created = await activity(api, companyId=await company(api))
    cleared = await api(UPDATE, {"id": created["id"], "i": {"companyId": None}})
    assert error_codes(cleared) == ["BAD_USER_INPUT"]
    moved = await api.data(
        UPDATE, {"id": created["id"], "i": {"companyId": None, "contactId": await contact(api)}}
    )
    assert moved["updateActivity"]["company"] is None


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"subject": ""}, "subject"),
        ({"dueAt": "2027-01-15T09:00:00"}, "dueAt"),
        ({"subject": "x" * 201}, "subject"),
    ],
)
async def test_invalid_activity_is_refused(api: Api, fields: dict[str, Any], bad: str) -> None:
    company_id = await company(api)
    result = await api(
        CREATE, {"i": {"type": "TASK", "subject": "Ok", "companyId": company_id, **fields}}
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert bad in error_fields(result)


async def test_unknown_or_foreign_links_are_not_found(api: Api, tenant: str) -> None:
    foreign = await company(api)
    result = await api(
        CREATE, {"i": {"type": "NOTE", "subject": "X", "companyId": foreign}}, tenant=f"{tenant}-o"
    )
    assert error_codes(result) == ["NOT_FOUND"]


async def test_complete_keeps_the_first_time_and_reopen_clears_it(api: Api) -> None:
    created = await activity(api, companyId=await company(api))
    done = "mutation($id: ID!) { completeActivity(id: $id) { completedAt } }"
    first = (await api.data(done, {"id": created["id"]}))["completeActivity"]["completedAt"]
    again = (await api.data(done, {"id": created["id"]}))["completeActivity"]["completedAt"]
    assert first is not None and again == first
    reopened = await api.data(
        "mutation($id: ID!) { reopenActivity(id: $id) { completedAt } }", {"id": created["id"]}
    )
    assert reopened["reopenActivity"]["completedAt"] is None


async def test_company_feed_includes_its_contacts_activities_when_asked(api: Api) -> None:
    company_id = await company(api)
    contact_id = await contact(api, company_id)
    elsewhere = await contact(api, None, "Fremd")
    await activity(api, subject="Firma", companyId=company_id)
    await activity(api, subject="Kontakt", contactId=contact_id)
    await activity(api, subject="Woanders", contactId=elsewhere)

    async def subjects(include: bool) -> list[str]:
        data = await api.data(LIST, {"f": {"companyId": company_id, "includeContacts": include}})
        assert data["activities"]["totalCount"] == len(data["activities"]["edges"])
        return [e["node"]["subject"] for e in data["activities"]["edges"]]

    assert await subjects(False) == ["Firma"]
    assert await subjects(True) == ["Kontakt", "Firma"]  # newest first


async def test_filters_overdue_completed_and_order_by_due(api: Api) -> None:
    company_id = await company(api)
    late = await activity(
        api, subject="Überfällig", companyId=company_id, dueAt=iso(timedelta(hours=-2))
    )
    await activity(api, subject="Morgen", companyId=company_id, dueAt=iso(timedelta(days=1)))
    done = await activity(
        api, subject="Erledigt", companyId=company_id, dueAt=iso(timedelta(hours=-5))
    )
    await api.data("mutation($id: ID!) { completeActivity(id: $id) { id } }", {"id": done["id"]})

    async def subjects(filter_: dict[str, Any], order: dict[str, Any] | None = None) -> list[str]:
        data = await api.data(LIST, {"f": filter_, "o": order})
        return [e["node"]["subject"] for e in data["activities"]["edges"]]

    assert await subjects({"overdue": True}) == ["Überfällig"]
    assert await subjects({"completed": True}) == ["Erledigt"]
    by_due = await subjects({"completed": False}, {"field": "DUE_AT", "direction": "ASC"})
    assert by_due == ["Überfällig", "Morgen"]
    assert late["subject"] == "Überfällig"


async def test_nested_activities_on_company_contact_and_deal(api: Api) -> None:
    company_id = await company(api)
    await activity(api, subject="A", companyId=company_id)
    data = await api.data(
        "query($id: ID!) { company(id: $id) { activities { edges { node { subject } } } } }",
        {"id": company_id},
    )
    assert data["company"]["activities"]["edges"] == [{"node": {"subject": "A"}}]
