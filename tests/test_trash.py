"""The trash end to end: deleteX moves a record there, every read path hides it, restoreX
brings it back with its links, purgeX (admin) deletes it for good with the on-delete rules,
the retention cron purges what is too old; rights and tenant isolation. The suite runs with
COMPILED_EXECUTION=verify: every query here is answered by both paths and compared."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

import models
from app.data.tenancy import TenantScope
from app.services.activities.reminders import send_due_soon_reminders
from app.services.trash.service import purge_expired_trash
from tests.conftest import Api, error_codes
from tests.factories import nodes
from tests.live import graphql_socket
from tests.test_deals import pipeline, stage
from tests.test_events import events
from tests.test_subscriptions import DEAL_CHANGED


async def make(api: Api, mutation: str, input_type: str, **fields: Any) -> str:
    data = await api.data(
        f"mutation($i: {input_type}!) {{ {mutation}(input: $i) {{ id }} }}", {"i": fields}
    )
    made: str = data[mutation]["id"]
    return made


async def scope_of(api: Api, sessions: async_sessionmaker[AsyncSession]) -> TenantScope:
    me = await api.data("{ me { tenant { id } user { id } } }")
    tenant, user = me["me"]["tenant"]["id"], me["me"]["user"]["id"]
    return TenantScope(uuid.UUID(tenant), uuid.UUID(user), sessions)


async def delete(api: Api, kind: str, record_id: str, role: str = "member") -> dict[str, Any]:
    return await api(
        f"mutation($id: ID!) {{ delete{kind}(id: $id) }}", {"id": record_id}, role=role
    )


async def restore(api: Api, kind: str, record_id: str, role: str = "member") -> dict[str, Any]:
    return await api(
        f"mutation($id: ID!) {{ restore{kind}(id: $id) {{ id }} }}", {"id": record_id}, role=role
    )


async def purge(api: Api, kind: str, record_id: str, role: str = "admin") -> dict[str, Any]:
    return await api(f"mutation($id: ID!) {{ purge{kind}(id: $id) }}", {"id": record_id}, role=role)


class World:
    """A company with a contact, a deal, activities, a contract and a relationship."""

    def __init__(self, ids: dict[str, str]) -> None:
        self.ids = ids

    def __getattr__(self, name: str) -> str:
        return self.ids[name]


async def world(api: Api) -> World:
    board = await pipeline(api)
    company = await make(api, "createCompany", "CreateCompanyInput", name="Papierkorb GmbH")
    other = await make(api, "createCompany", "CreateCompanyInput", name="Partner AG")
    contact = await make(
        api, "createContact", "CreateContactInput", lastName="Muster", companyId=company
    )
    deal = await make(
        api,
        "createDeal",
        "CreateDealInput",
        title="Rahmenvertrag",
        stageId=stage(board, "Angebot"),
        companyId=company,
        contactId=contact,
        value="1000",
    )
    only_company = await make(
        api, "createActivity", "CreateActivityInput", type="NOTE", subject="Nur Firma",
        companyId=company,
    )  # fmt: skip
    with_deal = await make(
        api, "createActivity", "CreateActivityInput", type="CALL", subject="Mit Deal",
        companyId=company, dealId=deal,
    )  # fmt: skip
    contract = await make(
        api, "createContract", "CreateContractInput", companyId=company, title="Wartung"
    )
    kind = await api.data('mutation { createRelationshipType(input: {name: "Partner"}) { id } }')
    relationship = await api.data(
        "mutation($f: ID!, $t: ID!, $k: ID!) { createCompanyRelationship("
        "fromCompanyId: $f, toCompanyId: $t, typeId: $k) { relationship { id } } }",
        {"f": other, "t": company, "k": kind["createRelationshipType"]["id"]},
    )
    return World(
        {
            "pipeline": board["id"],
            "company": company,
            "other": other,
            "contact": contact,
            "deal": deal,
            "only_company": only_company,
            "with_deal": with_deal,
            "contract": contract,
            "relationship": relationship["createCompanyRelationship"]["relationship"]["id"],
        }
    )


READS = """query($contact: ID!, $deal: ID!, $activity: ID!, $pipeline: ID!) {
  companies { totalCount edges { node { id } } }
  contacts { totalCount edges { node { id companyId company { id } } } }
  contact(id: $contact) { id companyId company { id name }
    deals { edges { node { id companyId company { id } } } } }
  deal(id: $deal) { id companyId company { id } contactId contact { id } }
  deals { totalCount edges { node { id companyId company { id } } } }
  activity(id: $activity) { id companyId company { id } dealId deal { id } }
  activities { totalCount edges { node { id companyId dealId company { id } } } }
  contracts { totalCount edges { node { id } } }
  companyRelationships { totalCount edges { node { id } } }
  pipeline(id: $pipeline) { summary { dealCount total { amount } } }
  filtered: contacts(filter: {company: {search: "Papierkorb"}}) { totalCount }
  withContacts: companies(filter: {contacts: {some: {search: "Muster"}}}) { totalCount }
}"""


LISTS = """query($pipeline: ID!, $company: ID!) {
  company(id: $company) {
    contacts { edges { node { id } } } deals { edges { node { id } } }
    activities { edges { node { id } } } contracts { edges { node { id } } }
    openDealCount openDealValue { amount }
  }
  contacts { totalCount } deals { totalCount } activities { totalCount } contracts { totalCount }
  pipeline(id: $pipeline) { summary { dealCount total { amount } } }
  withContacts: companies(filter: {contacts: {some: {search: "Muster"}}}) { totalCount }
}"""


async def reads(api: Api, w: World, role: str = "viewer") -> dict[str, Any]:
    variables = {
        "contact": w.contact,
        "deal": w.deal,
        "activity": w.with_deal,
        "pipeline": w.pipeline,
    }
    result: dict[str, Any] = await api.data(READS, variables, role=role)
    return result


def ids(connection: dict[str, Any]) -> set[str]:
    return {edge["node"]["id"] for edge in connection["edges"]}


async def test_a_trashed_company_is_hidden_everywhere_and_comes_back_with_its_links(
    api: Api,
) -> None:
    w = await world(api)
    before = await reads(api, w)
    assert before["contact"]["company"]["id"] == w.company
    assert before["filtered"]["totalCount"] == 1

    assert (await delete(api, "Company", w.company))["data"] == {"deleteCompany": w.company}
    hidden = await reads(api, w)
    assert ids(hidden["companies"]) == {w.other} and hidden["companies"]["totalCount"] == 1
    # The links stay, read as null (the ids too), on rows joined and rows fetched apart.
    assert (hidden["contact"]["companyId"], hidden["contact"]["company"]) == (None, None)
    deals = nodes(hidden["contact"]["deals"])
    assert deals == [{"id": w.deal, "companyId": None, "company": None}]
    assert hidden["deal"] == {
        "id": w.deal, "companyId": None, "company": None,
        "contactId": w.contact, "contact": {"id": w.contact},
    }  # fmt: skip
    assert hidden["activity"] == {
        "id": w.with_deal, "companyId": None, "company": None,
        "dealId": w.deal, "deal": {"id": w.deal},
    }  # fmt: skip
    for listed in ("contacts", "deals", "activities"):
        assert all(e["node"]["companyId"] is None for e in hidden[listed]["edges"]), listed
    assert hidden["activities"]["totalCount"] == 2  # nothing else was trashed
    assert hidden["contracts"]["totalCount"] == 0  # part of the company: hidden with it
    assert hidden["companyRelationships"]["totalCount"] == 0
    assert hidden["filtered"]["totalCount"] == 0  # relation filters see no trashed record
    for query in ("company(id: $id) { id }", "companyRelationship(id: $id) { id }"):
        target = w.company if query.startswith("company(") else w.relationship
        result = await api(f"query($id: ID!) {{ {query} }}", {"id": target})
        assert error_codes(result) == ["NOT_FOUND"], result
    again = await delete(api, "Company", w.company)
    assert error_codes(again) == ["NOT_FOUND"]  # not live any more
    update = await api(
        'mutation($id: ID!) { updateCompany(id: $id, input: {name: "X"}) { id } }',
        {"id": w.company},
    )
    assert error_codes(update) == ["NOT_FOUND"]

    restored = await api.data(
        "mutation($id: ID!) { restoreCompany(id: $id) { id name "
        "contacts { edges { node { id } } } } }",
        {"id": w.company},
        role="member",
    )
    assert restored["restoreCompany"] == {
        "id": w.company,
        "name": "Papierkorb GmbH",
        "contacts": {"edges": [{"node": {"id": w.contact}}]},
    }
    assert await reads(api, w) == before


async def test_each_kind_is_trashed_and_restored_with_its_events(api: Api) -> None:
    w = await world(api)
    after = (await events(api, first=200))[-1]["id"]
    for kind, record_id in (
        ("Contact", w.contact),
        ("Deal", w.deal),
        ("Activity", w.with_deal),
        ("Contract", w.contract),
    ):
        assert (await delete(api, kind, record_id))["data"] == {f"delete{kind}": record_id}
        lower = kind[0].lower() + kind[1:]
        gone = await api(f"query($id: ID!) {{ {lower}(id: $id) {{ id }} }}", {"id": record_id})
        assert error_codes(gone) == ["NOT_FOUND"]
    hidden = await api.data(LISTS, {"pipeline": w.pipeline, "company": w.company})
    assert nodes(hidden["company"]["contacts"]) == nodes(hidden["company"]["deals"]) == []
    assert hidden["company"]["openDealCount"] == 0  # roll-ups
    assert hidden["company"]["openDealValue"] == []
    assert nodes(hidden["company"]["activities"]) == [{"id": w.only_company}]
    assert hidden["contacts"]["totalCount"] == 0 and hidden["deals"]["totalCount"] == 0
    assert hidden["activities"]["totalCount"] == 1 and hidden["contracts"]["totalCount"] == 0
    assert hidden["pipeline"]["summary"][1] == {"dealCount": 0, "total": []}  # the board
    assert hidden["withContacts"]["totalCount"] == 0  # relation filters
    for kind, record_id in (("Contact", w.contact), ("Deal", w.deal), ("Contract", w.contract)):
        assert "errors" not in await restore(api, kind, record_id)
    assert "errors" not in await restore(api, "Activity", w.with_deal)
    back = await reads(api, w)
    again = await api.data(LISTS, {"pipeline": w.pipeline, "company": w.company})
    assert again["company"]["openDealCount"] == 1
    assert again["company"]["openDealValue"] == [{"amount": "1000.00"}]
    assert back["deal"] == {
        "id": w.deal,
        "companyId": w.company,
        "company": {"id": w.company},
        "contactId": w.contact,
        "contact": {"id": w.contact},
    }
    assert back["pipeline"]["summary"][1]["dealCount"] == 1
    stored = [e for e in await events(api, after=after, first=200)]
    deleted = next(e for e in stored if e["type"] == "crm.contact.deleted")
    assert deleted["entityId"] == w.contact
    assert deleted["changes"]["lastName"] == ["Muster", None]
    assert deleted["changes"]["deletedBy"][0] is None and deleted["changes"]["deletedAt"][1]
    assert deleted["changes"]["deletedBy"][1] == deleted["actorId"]
    restored = next(e for e in stored if e["type"] == "crm.deal.restored")
    assert restored["changes"]["pipelineId"] == [None, w.pipeline]  # the board shows it again
    assert restored["changes"]["deletedAt"][1] is None
    assert [e["type"] for e in stored].count("crm.activity.restored") == 1


async def test_restore_answers_not_found_for_what_is_not_in_the_trash(api: Api) -> None:
    w = await world(api)
    for record_id in (w.company, str(uuid.uuid4())):
        result = await restore(api, "Company", record_id)
        assert error_codes(result) == ["NOT_FOUND"]
        assert "not found in the trash" in result["errors"][0]["message"]


async def test_restoring_a_contract_of_a_trashed_company_is_a_conflict_naming_it(
    api: Api,
) -> None:
    w = await world(api)
    await delete(api, "Contract", w.contract)
    await delete(api, "Company", w.company)
    result = await restore(api, "Contract", w.contract)
    assert error_codes(result) == ["CONFLICT"]
    assert result["errors"][0]["extensions"]["conflictingId"] == w.company
    await restore(api, "Company", w.company)
    assert "errors" not in await restore(api, "Contract", w.contract)


async def test_purge_applies_the_on_delete_rules_and_refuses_a_live_record(api: Api) -> None:
    w = await world(api)
    live = await purge(api, "Company", w.company)
    assert error_codes(live) == ["NOT_IN_TRASH"]
    assert "delete it first" in live["errors"][0]["message"]
    assert error_codes(await purge(api, "Company", str(uuid.uuid4()))) == ["NOT_FOUND"]
    await delete(api, "Deal", w.deal)  # the activity's other link: a trashed deal
    await delete(api, "Company", w.company)
    after = (await events(api, first=200))[-1]["id"]
    assert (await purge(api, "Company", w.company))["data"] == {"purgeCompany": w.company}
    stored = {(e["type"], e["entityId"]): e for e in await events(api, after=after, first=200)}
    assert ("crm.company.purged", w.company) in stored
    # An activity linked to the company alone goes with it; one also linked to a deal (a
    # trashed one) stays with the deal.
    assert ("crm.activity.purged", w.only_company) in stored
    kept = stored[("crm.activity.updated", w.with_deal)]
    assert kept["changes"]["companyId"] == [w.company, None]
    assert stored[("crm.contact.updated", w.contact)]["changes"]["companyId"] == [w.company, None]
    assert stored[("crm.deal.updated", w.deal)]["changes"]["companyId"] == [w.company, None]
    assert ("crm.company.relationship_removed", w.other) in stored  # its `to` end was purged
    assert error_codes(await restore(api, "Company", w.company)) == ["NOT_FOUND"]
    await restore(api, "Deal", w.deal)
    activity = await api.data(
        "query($id: ID!) { activity(id: $id) { company { id } deal { id } } }",
        {"id": w.with_deal},
    )
    assert activity["activity"] == {"company": None, "deal": {"id": w.deal}}
    gone = await api("query($id: ID!) { activity(id: $id) { id } }", {"id": w.only_company})
    assert error_codes(gone) == ["NOT_FOUND"]


async def test_rights_viewer_reads_member_trashes_and_restores_admin_purges(api: Api) -> None:
    w = await world(api)
    assert error_codes(await delete(api, "Contact", w.contact, role="viewer")) == ["FORBIDDEN"]
    await delete(api, "Contact", w.contact, role="member")
    listed = await api.data("{ trash { totalCount } }", role="viewer")
    assert listed["trash"]["totalCount"] == 1
    assert error_codes(await restore(api, "Contact", w.contact, role="viewer")) == ["FORBIDDEN"]
    assert error_codes(await purge(api, "Contact", w.contact, role="member")) == ["FORBIDDEN"]
    assert "errors" not in await restore(api, "Contact", w.contact, role="member")
    await delete(api, "Contact", w.contact, role="admin")
    assert "errors" not in await purge(api, "Contact", w.contact, role="admin")


async def test_another_tenants_trash_is_not_found(api: Api) -> None:
    w = await world(api)
    await delete(api, "Company", w.company)
    other = f"t-{uuid.uuid4().hex[:12]}"
    theirs = [
        await api(
            "mutation($id: ID!) { restoreCompany(id: $id) { id } }", {"id": w.company}, tenant=other
        ),
        await api("mutation($id: ID!) { purgeCompany(id: $id) }", {"id": w.company}, tenant=other),
    ]
    assert [error_codes(result) for result in theirs] == [["NOT_FOUND"], ["NOT_FOUND"]]
    listed = await api.data("{ trash { totalCount edges { node { type } } } }", tenant=other)
    assert listed["trash"] == {"totalCount": 0, "edges": []}
    assert (await api.data("{ trash { totalCount } }"))["trash"]["totalCount"] == 1


TRASH = """query($types: [TrashType!], $first: Int, $after: String) {
  trash(types: $types, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { type deletedAt purgeAt deletedBy { id }
      record { __typename ... on Company { id name } ... on Contact { id lastName company { id } }
               ... on Deal { id title } ... on Activity { id subject } ... on Contract { id } } } }
  } }"""


async def test_the_trash_lists_most_recent_first_by_type_with_cursors(api: Api) -> None:
    w = await world(api)
    order = [("Activity", w.only_company), ("Contact", w.contact), ("Company", w.company)]
    for kind, record_id in order:
        await delete(api, kind, record_id)
    me = await api.data("{ me { user { id } } }", role="member")
    listed = (await api.data(TRASH, {}))["trash"]
    assert listed["totalCount"] == 3
    nodes = [edge["node"] for edge in listed["edges"]]
    assert [n["record"]["id"] for n in nodes] == [w.company, w.contact, w.only_company]
    assert [n["type"] for n in nodes] == ["COMPANY", "CONTACT", "ACTIVITY"]
    assert nodes[1]["record"] == {
        "__typename": "Contact",
        "id": w.contact,
        "lastName": "Muster",
        "company": None,  # its company is in the trash too
    }
    assert all(n["deletedBy"] == {"id": me["me"]["user"]["id"]} for n in nodes)
    first = nodes[0]
    assert first["purgeAt"][:10] >= first["deletedAt"][:10]
    page = (await api.data(TRASH, {"first": 2}))["trash"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = (await api.data(TRASH, {"first": 2, "after": page["pageInfo"]["endCursor"]}))["trash"]
    assert [e["node"]["record"]["id"] for e in rest["edges"]] == [w.only_company]
    assert rest["pageInfo"]["hasNextPage"] is False
    only = (await api.data(TRASH, {"types": ["CONTACT", "ACTIVITY"]}))["trash"]
    assert only["totalCount"] == 2
    bad = await api(TRASH, {"after": "nonsense"})
    assert error_codes(bad) == ["BAD_USER_INPUT"]


SEARCH = "query($q: String!) { search(query: $q) { totalCount edges { node { type } } } }"


async def found(api: Api, text: str) -> list[str]:
    found = (await api.data(SEARCH, {"q": text}))["search"]
    hits = found["edges"]
    assert found["totalCount"] == len(hits)  # counted from the view: hidden there too
    return sorted(hit["node"]["type"] for hit in hits)


async def test_search_finds_no_trashed_record(api: Api) -> None:
    w = await world(api)
    email = "mail@muster-papier.de"
    await api.data(
        "mutation($id: ID!, $e: String!) { updateContact(id: $id, input: {emails: [{email: $e}]}) { id } }",
        {"id": w.contact, "e": email},
    )
    assert await found(api, "Papierkorb") == ["COMPANY"]
    assert await found(api, email) == ["CONTACT"]
    assert await found(api, "Wartung") == ["CONTRACT"]
    await delete(api, "Company", w.company)
    assert await found(api, "Papierkorb") == []
    assert await found(api, "Wartung") == []  # its company is trashed
    await delete(api, "Contact", w.contact)
    assert await found(api, email) == []  # its e-mail is found no more either
    await restore(api, "Company", w.company)
    assert await found(api, "Wartung") == ["CONTRACT"]


async def test_the_retention_cron_purges_what_was_trashed_long_ago(
    api: Api, sessions: async_sessionmaker[AsyncSession]
) -> None:
    w = await world(api)
    scope = await scope_of(api, sessions)
    await delete(api, "Company", w.company)
    await delete(api, "Contact", w.contact)
    long_ago = (
        sa.update(models.Company)
        .where(col(models.Company.id) == uuid.UUID(w.company))
        .values(deleted_at=sa.func.now() - timedelta(days=31))
        .execution_options(synchronize_session=False)
    )
    async with scope.writing() as uow:
        await uow.execute_rows(long_ago, with_trashed=True)
    after = (await events(api, first=200))[-1]["id"]
    purged = await purge_expired_trash(sessions, timedelta(days=30), batch=1)
    assert purged >= 1
    stored = [(e["type"], e["entityId"]) for e in await events(api, after=after, first=200)]
    assert ("crm.company.purged", w.company) in stored
    assert ("crm.activity.purged", w.only_company) in stored  # the on-delete rules
    listed = (await api.data(TRASH, {}))["trash"]
    assert [e["node"]["record"]["id"] for e in listed["edges"]] == [w.contact]  # recent: kept


async def test_the_board_drops_a_trashed_deal_and_shows_it_again_when_restored(
    api: Api, live: str
) -> None:
    board = await pipeline(api)
    created = await make(
        api, "createDeal", "CreateDealInput", title="Karte", pipelineId=board["id"]
    )
    async with graphql_socket(live) as socket:
        await socket.init(api.token())
        await socket.subscribe(DEAL_CHANGED, {"p": board["id"]})
        await asyncio.sleep(0.3)  # subscribed (not an assertion: the frames below are)
        await delete(api, "Deal", created)
        dropped = (await socket.next_data())["dealChanged"]
        await restore(api, "Deal", created)
        shown = (await socket.next_data())["dealChanged"]
    assert (dropped["event"]["type"], dropped["onBoard"], dropped["deal"]) == (
        "crm.deal.deleted",
        False,
        None,
    )
    assert (shown["event"]["type"], shown["onBoard"]) == ("crm.deal.restored", True)
    assert shown["deal"]["title"] == "Karte" and shown["dealId"] == created


async def test_restoring_a_record_whose_lexware_link_another_holds_is_a_conflict_naming_it(
    api: Api, sessions: async_sessionmaker[AsyncSession]
) -> None:
    scope = await scope_of(api, sessions)
    first = await make(api, "createCompany", "CreateCompanyInput", name="Erste")
    second = await make(api, "createCompany", "CreateCompanyInput", name="Zweite")
    link = uuid.uuid4()

    async def link_to(company_id: str) -> None:
        statement = (
            sa.update(models.Company)
            .where(col(models.Company.id) == uuid.UUID(company_id))
            .values(lexware_contact_id=link)
            .execution_options(synchronize_session=False)
        )
        async with scope.writing() as uow:
            await uow.execute_rows(statement)

    await link_to(first)
    await delete(api, "Company", first)
    await link_to(second)  # unique among live records: the trashed one does not hold it
    result = await restore(api, "Company", first)
    assert error_codes(result) == ["CONFLICT"]
    assert result["errors"][0]["extensions"]["conflictingId"] == second
    assert second in result["errors"][0]["message"]
    listed = (await api.data(TRASH, {}))["trash"]  # still in the trash, unchanged
    assert [e["node"]["record"]["id"] for e in listed["edges"]] == [first]


async def test_a_trashed_activity_is_not_reminded_until_restored(
    api: Api, sessions: async_sessionmaker[AsyncSession]
) -> None:
    company = await make(api, "createCompany", "CreateCompanyInput", name="Kunde")
    soon = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    activity = await make(
        api, "createActivity", "CreateActivityInput", type="TASK", subject="Nachfassen",
        companyId=company, dueAt=soon,
    )  # fmt: skip
    await delete(api, "Activity", activity)
    window = timedelta(hours=24)
    await send_due_soon_reminders(sessions, window)
    assert await events(api, types=["crm.activity.due_soon"]) == []
    await restore(api, "Activity", activity)
    await send_due_soon_reminders(sessions, window)
    reminded = await events(api, types=["crm.activity.due_soon"])
    assert [event["entityId"] for event in reminded] == [activity]


async def test_a_write_cannot_link_to_a_record_in_the_trash(api: Api) -> None:
    """The foreign keys accept a trashed row; the writes refuse it as a missing id."""
    w = await world(api)
    await delete(api, "Company", w.company)
    await delete(api, "Deal", w.deal)
    before = (await api.data("{ contacts { totalCount } }"))["contacts"]["totalCount"]
    version = "query($id: ID!) { contact(id: $id) { version } }"
    unchanged = await api.data(version, {"id": w.contact})
    refused = [
        await api(
            'mutation($c: ID!) { createContact(input: {lastName: "Neu", companyId: $c}) { id } }',
            {"c": w.company},
        ),
        await api(
            "mutation($id: ID!, $c: ID!) { updateContact(id: $id, input: {companyId: $c}) { id } }",
            {"id": w.contact, "c": w.company},
        ),
        await api(
            'mutation($c: ID!) { createDeal(input: {title: "Neu", companyId: $c}) { id } }',
            {"c": w.company},
        ),
        await api(
            "mutation($d: ID!, $k: ID!) { createActivity(input: "
            '{type: NOTE, subject: "N", dealId: $d, contactId: $k}) { id } }',
            {"d": w.deal, "k": w.contact},
        ),
        await api(
            'mutation($c: ID!) { createContract(input: {companyId: $c, title: "N"}) { id } }',
            {"c": w.company},
        ),
    ]
    assert [error_codes(result) for result in refused] == [["NOT_FOUND"]] * 5
    assert [r["errors"][0]["message"] for r in refused][:4] == [
        "Company not found.",
        "Company not found.",
        "Company not found.",
        "Deal not found.",
    ]
    assert (await api.data("{ contacts { totalCount } }"))["contacts"]["totalCount"] == before
    assert await api.data(version, {"id": w.contact}) == unchanged  # the update rolled back
    await restore(api, "Company", w.company)
    linked = await api.data(
        'mutation($c: ID!) { createContact(input: {lastName: "Neu", companyId: $c}) { companyId } }',
        {"c": w.company},
    )
    assert linked["createContact"]["companyId"] == w.company
