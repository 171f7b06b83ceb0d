"""mergeCompanies and mergeContacts (app/services/merges): what moves, what is united, what a
dry run leaves alone, conflicts, concurrency, tombstones, the event, rights and isolation."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from arq import create_pool
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from starlette.applications import Starlette

from app.data.tenancy import TenantScope
from app.redis import arq_redis_settings
from app.services.contact_info.rules import PHONES
from app.services.merges.plans import plan_values
from app.services.merges.rules import COMPANY_MERGE, CONTACT_MERGE, MAX_MERGED, MergeRequest
from app.settings import Settings
from jobs.lexware import enqueue_erp_pushes
from models import DealVoucher, LexwareVoucher, SQLModel
from resolvers.merges.inputs import CompanyMergeField, ContactMergeField
from resolvers.merges.types import MergeRelation
from tests.conftest import (
    Api,
    Servers,
    StatementCounter,
    error_codes,
    error_fields,
    record_full_runs,
)
from tests.factories import add_row, nodes
from tests.live import graphql_socket
from tests.test_deals import pipeline
from tests.test_lexware_crons import queued_job

MERGE_COMPANIES = """mutation($s: ID!, $m: [ID!]!, $v: Int!, $f: [CompanyFieldChoice!],
  $l: ID, $d: Boolean = false) {
  mergeCompanies(survivorId: $s, mergedIds: $m, expectedVersion: $v, fields: $f,
    lexwareFrom: $l, dryRun: $d) {
    survivor { id name website notes vatId tags lexwareContactId version mergedFrom mergedInto }
    merged { id name mergedInto }
    mergedIds changedFields lexwareUnlinked message dryRun
    moved { relation movedIds droppedIds } } }"""
MERGE_CONTACTS = """mutation($s: ID!, $m: [ID!]!, $v: Int!, $f: [ContactFieldChoice!],
  $d: Boolean = false) {
  mergeContacts(survivorId: $s, mergedIds: $m, expectedVersion: $v, fields: $f, dryRun: $d) {
    survivor { id firstName lastName position companyId tags mergedFrom
      emails { email isPrimary } owners { role user { id } } }
    mergedIds dryRun moved { relation movedIds droppedIds } } }"""
COMPANY = """query($id: ID!) { company(id: $id) {
  id name tags version mergedFrom mergedInto lexwareContactId
  contacts { edges { node { id } } } deals { edges { node { id } } }
  activities { edges { node { id } } } contracts { edges { node { id } } }
  relationships { edges { node { direction otherCompany { id } type { name } } } }
  emails { email isPrimary } phones { phone isPrimary }
  owners { role user { id } } } }"""
ME = "{ me { tenant { id } user { id } } }"


async def create_company(api: Api, name: str, tenant: str | None = None, **fields: Any) -> str:
    data = await api.data(
        "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }",
        {"i": {"name": name, **fields}},
        tenant=tenant,
    )
    return str(data["createCompany"]["id"])


async def create_contact(api: Api, last_name: str, **fields: Any) -> str:
    data = await api.data(
        "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }",
        {"i": {"lastName": last_name, **fields}},
    )
    return str(data["createContact"]["id"])


async def create(api: Api, mutation: str, kind: str, values: dict[str, Any]) -> str:
    data = await api.data(
        f"mutation($i: {kind}!) {{ {mutation}(input: $i) {{ id }} }}", {"i": values}
    )
    return str(data[mutation]["id"])


async def user_id(api: Api, role: str) -> str:
    return str((await api.data(ME, role=role))["me"]["user"]["id"])


async def scope_of(api: Api, app: Starlette) -> TenantScope:
    me = (await api.data(ME))["me"]
    return TenantScope(
        uuid.UUID(me["tenant"]["id"]), uuid.UUID(me["user"]["id"]), app.state.runtime.sessions
    )


async def version(api: Api, company_id: str) -> int:
    data = await api.data("query($id: ID!) { company(id: $id) { version } }", {"id": company_id})
    return int(data["company"]["version"])


async def relationship_type(api: Api, name: str) -> str:
    data = await api.data(
        "mutation($n: String!) { createRelationshipType(input: {name: $n}) { id } }", {"n": name}
    )
    return str(data["createRelationshipType"]["id"])


async def relate(api: Api, a: str, b: str, type_id: str) -> str:
    data = await api.data(
        """mutation($a: ID!, $b: ID!, $t: ID!) {
          createCompanyRelationship(fromCompanyId: $a, toCompanyId: $b, typeId: $t) {
            relationship { id } } }""",
        {"a": a, "b": b, "t": type_id},
    )
    return str(data["createCompanyRelationship"]["relationship"]["id"])


async def set_lexware(
    owner_sessions: async_sessionmaker[AsyncSession], table: str, row_id: str, lexware: uuid.UUID
) -> None:
    """A Lexware link as the import leaves it (the link itself is all a merge looks at)."""
    async with owner_sessions() as session, session.begin():
        await session.execute(
            sa.text(f"UPDATE {table} SET lexware_contact_id = :l WHERE id = :id"),
            {"l": lexware, "id": uuid.UUID(row_id)},
        )


async def merge(api: Api, survivor: str, merged: list[str], **more: Any) -> dict[str, Any]:
    role = more.pop("role", "admin")
    variables = {"s": survivor, "m": merged, "v": await version(api, survivor), **more}
    return await api(MERGE_COMPANIES, variables, role=role)


def moves(payload: dict[str, Any]) -> dict[str, tuple[set[str], set[str]]]:
    return {m["relation"]: (set(m["movedIds"]), set(m["droppedIds"])) for m in payload["moved"]}


async def tenant_tables(owner_sessions: async_sessionmaker[AsyncSession], tenant: str) -> Any:
    """Every row of the tenant in every table (and its events), as text: a dry run must leave
    all of it as it was."""
    tables = sorted(
        table.name for table in SQLModel.metadata.sorted_tables if "tenant_id" in table.c
    )
    found: dict[str, list[str]] = {}
    async with owner_sessions() as session, session.begin():
        for table in tables:
            rows = await session.execute(
                sa.text(f'SELECT t::text FROM "{table}" t WHERE tenant_id = :t'),
                {"t": uuid.UUID(tenant)},
            )
            found[table] = sorted(row[0] for row in rows)
    return found


class Setup:
    """A survivor and a merged company with one of everything that follows a merge."""

    survivor: str
    merged: str
    other: str
    contact: str
    deals: list[str]
    activity: str
    contract: str
    voucher: uuid.UUID
    link: uuid.UUID
    kept_relation: str
    moved_relation: str
    duplicate_relation: str
    self_relation: str
    lexware: uuid.UUID
    admin: str
    member: str


async def everything(
    api: Api, app: Starlette, owner_sessions: async_sessionmaker[AsyncSession]
) -> Setup:
    s = Setup()
    s.admin, s.member = await user_id(api, "admin"), await user_id(api, "member")
    s.survivor = await create_company(
        api,
        "Muster GmbH",
        tags=["VIP"],
        emails=[{"email": "info@muster.de", "isPrimary": True}],
        phones=[{"phone": "+49 711 1234-0"}],
        owners=[{"userId": s.admin, "role": "WATCHER"}],
    )
    s.merged = await create_company(
        api,
        "Muster G.m.b.H.",
        website="https://muster.de",
        vatId="DE811907980",
        tags=["vip", "ERP"],
        emails=[{"email": "INFO@muster.de"}, {"email": "buchhaltung@muster.de", "isPrimary": True}],
        phones=[{"phone": "+49 (711) 1234 0"}, {"phone": "+49 711 9912345"}],
        owners=[{"userId": s.admin, "role": "OWNER"}, {"userId": s.member, "role": "MEMBER"}],
    )
    s.other = await create_company(api, "Partner AG")
    s.contact = await create_contact(api, "Schmidt", companyId=s.merged)
    await pipeline(api)
    s.deals = [
        await create(api, "createDeal", "CreateDealInput", {"title": "D", "companyId": s.merged}),
        await create(api, "createDeal", "CreateDealInput", {"title": "S", "companyId": s.survivor}),
    ]
    s.activity = await create(
        api,
        "createActivity",
        "CreateActivityInput",
        {"type": "NOTE", "subject": "n", "companyId": s.merged},
    )
    s.contract = await create(
        api, "createContract", "CreateContractInput", {"companyId": s.merged, "title": "Wartung"}
    )
    partner, supplier = await relationship_type(api, "Partner"), await relationship_type(api, "L")
    s.kept_relation = await relate(api, s.survivor, s.other, partner)
    s.duplicate_relation = await relate(api, s.other, s.merged, partner)  # the survivor has it
    s.moved_relation = await relate(api, s.merged, s.other, supplier)
    s.self_relation = await relate(api, s.merged, s.survivor, supplier)
    s.lexware = uuid.uuid4()
    await set_lexware(owner_sessions, "company", s.merged, s.lexware)
    scope = await scope_of(api, app)
    s.voucher = await add_row(
        scope,
        LexwareVoucher,
        lexware_voucher_id=uuid.uuid4(),
        voucher_type="invoice",
        voucher_status="open",
        voucher_number="RE-1",
        lexware_contact_id=s.lexware,
        company_id=uuid.UUID(s.merged),
    )
    s.link = await add_row(scope, DealVoucher, deal_id=uuid.UUID(s.deals[0]), voucher_id=s.voucher)
    return s


async def test_a_company_merge_moves_every_relation_and_unites_the_values(
    api: Api, app: Starlette, owner_sessions: async_sessionmaker[AsyncSession]
) -> None:
    s = await everything(api, app, owner_sessions)
    payload = (await merge(api, s.survivor, [s.merged]))["data"]["mergeCompanies"]
    moved = moves(payload)
    assert moved["CONTACTS"] == ({s.contact}, set())
    assert moved["DEALS"] == ({s.deals[0]}, set())
    assert moved["ACTIVITIES"] == ({s.activity}, set())
    assert moved["CONTRACTS"] == ({s.contract}, set())
    assert moved["LEXWARE_VOUCHERS"] == ({str(s.voucher)}, set())
    assert moved["DEAL_VOUCHER_LINKS"] == ({str(s.link)}, set())
    assert moved["RELATIONSHIPS"] == (
        {s.moved_relation},
        {s.duplicate_relation, s.self_relation},
    )
    assert len(moved["EMAILS"][0]) == 1 and len(moved["EMAILS"][1]) == 1
    assert len(moved["PHONES"][0]) == 1 and len(moved["PHONES"][1]) == 1
    assert len(moved["OWNERS"][0]) == 1 and len(moved["OWNERS"][1]) == 1
    assert payload["mergedIds"] == [s.merged] and payload["dryRun"] is False
    assert payload["merged"] == [
        {"id": s.merged, "name": "Muster G.m.b.H.", "mergedInto": s.survivor}
    ]

    company = (await api.data(COMPANY, {"id": s.survivor}))["company"]
    assert company["name"] == "Muster GmbH"  # the survivor's value stays
    assert company["tags"] == ["VIP", "ERP"]
    assert company["lexwareContactId"] == str(s.lexware)  # the only link, taken over
    assert [c["id"] for c in nodes(company["contacts"])] == [s.contact]
    assert {d["id"] for d in nodes(company["deals"])} == set(s.deals)
    assert [a["id"] for a in nodes(company["activities"])] == [s.activity]
    assert [c["id"] for c in nodes(company["contracts"])] == [s.contract]
    assert sorted(
        (r["direction"], r["otherCompany"]["id"], r["type"]["name"])
        for r in nodes(company["relationships"])
    ) == sorted([("OUTGOING", s.other, "Partner"), ("OUTGOING", s.other, "L")])
    # The survivor's primary stays primary; a value it has (ignoring case, by digits) is dropped.
    assert company["emails"] == [
        {"email": "info@muster.de", "isPrimary": True},
        {"email": "buchhaltung@muster.de", "isPrimary": False},
    ]
    assert company["phones"] == [
        {"phone": "+49 711 1234-0", "isPrimary": True},
        {"phone": "+49 711 9912345", "isPrimary": False},
    ]
    assert sorted((o["user"]["id"], o["role"]) for o in company["owners"]) == sorted(
        [(s.admin, "OWNER"), (s.member, "MEMBER")]  # the strongest role the admin held
    )
    assert company["mergedFrom"] == [s.merged] and company["mergedInto"] is None
    scope = await scope_of(api, app)
    async with scope.reading() as reads:
        voucher = (
            await reads.execute(
                sa.select(col(LexwareVoucher.company_id)).where(col(LexwareVoucher.id) == s.voucher)
            )
        ).scalar_one()
        link = (
            await reads.execute(
                sa.select(col(DealVoucher.deal_id)).where(col(DealVoucher.id) == s.link)
            )
        ).scalar_one()
    assert str(voucher) == s.survivor and str(link) == s.deals[0]


async def test_a_dry_run_writes_nothing_and_previews_the_merge_exactly(
    api: Api, app: Starlette, owner_sessions: async_sessionmaker[AsyncSession], tenant: str
) -> None:
    s = await everything(api, app, owner_sessions)
    tenant_id = (await api.data(ME))["me"]["tenant"]["id"]
    before = await tenant_tables(owner_sessions, tenant_id)
    preview = (await merge(api, s.survivor, [s.merged], d=True))["data"]["mergeCompanies"]
    assert await tenant_tables(owner_sessions, tenant_id) == before
    assert preview["dryRun"] is True and preview["survivor"]["mergedFrom"] == []
    done = (await merge(api, s.survivor, [s.merged]))["data"]["mergeCompanies"]
    assert await tenant_tables(owner_sessions, tenant_id) != before

    def comparable(payload: dict[str, Any]) -> dict[str, Any]:
        survivor = {k: v for k, v in payload["survivor"].items() if k != "mergedFrom"}
        return {**payload, "survivor": survivor, "dryRun": None}

    assert comparable(preview) == comparable(done)


async def test_field_choices_and_defaults(api: Api) -> None:
    survivor = await create_company(api, "Alpha")
    first = await create_company(api, "Alpha 1", website="https://eins.de")
    second = await create_company(api, "Alpha 2", website="https://zwei.de", notes="Notiz")
    defaults = (await merge(api, survivor, [first, second], d=True))["data"]["mergeCompanies"]
    assert defaults["survivor"]["name"] == "Alpha"  # the survivor's
    assert defaults["survivor"]["website"] == "https://eins.de"  # the first merged one's
    assert defaults["survivor"]["notes"] == "Notiz"  # the first that has one
    assert set(defaults["changedFields"]) == {"website", "notes"}
    kept_empty = (
        await merge(
            api, survivor, [first, second], d=True, f=[{"field": "NOTES", "fromId": survivor}]
        )
    )["data"]["mergeCompanies"]["survivor"]
    assert kept_empty["notes"] is None  # chosen: the survivor's, empty as it is
    chosen = (
        await merge(
            api,
            survivor,
            [first, second],
            f=[{"field": "NAME", "fromId": second}, {"field": "WEBSITE", "fromId": second}],
        )
    )["data"]["mergeCompanies"]["survivor"]
    assert (chosen["name"], chosen["website"], chosen["notes"]) == (
        "Alpha 2",
        "https://zwei.de",
        "Notiz",
    )


async def test_the_field_enums_list_exactly_the_merged_fields() -> None:
    assert tuple(m.value for m in CompanyMergeField) == COMPANY_MERGE.fields
    assert tuple(m.value for m in ContactMergeField) == CONTACT_MERGE.fields


async def test_two_lexware_links_are_a_conflict_unless_one_is_chosen(
    api: Api, owner_sessions: async_sessionmaker[AsyncSession]
) -> None:
    survivor, merged = await create_company(api, "Eins"), await create_company(api, "Zwei")
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    await set_lexware(owner_sessions, "company", survivor, mine)
    await set_lexware(owner_sessions, "company", merged, theirs)
    refused = await merge(api, survivor, [merged])
    assert error_codes(refused) == ["CONFLICT"]
    message = refused["errors"][0]["message"]
    assert str(mine) in message and str(theirs) in message and "lexwareFrom" in message
    assert message.startswith("The companies are linked to different Lexware contacts")
    assert (await api.data(COMPANY, {"id": merged}))["company"]["id"] == merged  # untouched
    chosen = (await merge(api, survivor, [merged], l=merged))["data"]["mergeCompanies"]
    assert chosen["survivor"]["lexwareContactId"] == str(theirs)
    assert chosen["lexwareUnlinked"] == [str(mine)]
    assert "Lexware Office keeps" in chosen["message"]


async def test_a_stale_version_is_a_conflict_and_changes_nothing(api: Api) -> None:
    survivor, merged = await create_company(api, "Eins"), await create_company(api, "Zwei")
    current = await version(api, survivor)
    variables = {"s": survivor, "m": [merged], "v": current - 1 if current > 1 else current + 5}
    result = await api(MERGE_COMPANIES, variables)
    assert error_codes(result) == ["CONFLICT"]
    assert result["errors"][0]["extensions"]["currentVersion"] == current
    assert (await api.data(COMPANY, {"id": merged}))["company"]["id"] == merged


async def test_bad_input_is_named_and_changes_nothing(api: Api, tenant: str) -> None:
    survivor, merged = await create_company(api, "Eins"), await create_company(api, "Zwei")
    v = await version(api, survivor)

    async def attempt(**variables: Any) -> dict[str, Any]:
        return await api(MERGE_COMPANIES, {"s": survivor, "m": [merged], "v": v, **variables})

    for wrong in ([], [merged] * 2, [survivor], [str(uuid.uuid4()) for _ in range(21)]):
        result = await attempt(m=wrong)
        assert error_codes(result) == ["BAD_USER_INPUT"] and "mergedIds" in error_fields(result)
    stranger = str(uuid.uuid4())
    result = await attempt(f=[{"field": "NAME", "fromId": stranger}])
    assert error_codes(result) == ["BAD_USER_INPUT"] and error_fields(result) == {
        "fields[0].fromId"
    }
    assert error_codes(await attempt(l=stranger)) == ["BAD_USER_INPUT"]
    twice = await attempt(
        f=[{"field": "NAME", "fromId": survivor}, {"field": "NAME", "fromId": merged}]
    )
    assert error_codes(twice) == ["BAD_USER_INPUT"] and "fields[1].field" in error_fields(twice)
    assert error_codes(await attempt(m=["not-an-id"])) == ["BAD_USER_INPUT"]
    unknown = await attempt(m=[stranger])
    assert error_codes(unknown) == ["NOT_FOUND"] and stranger in unknown["errors"][0]["message"]
    theirs = await create_company(api, "Fremd", tenant=f"{tenant}-x")
    foreign = await attempt(m=[theirs])
    assert error_codes(foreign) == ["NOT_FOUND"] and theirs in foreign["errors"][0]["message"]
    assert (await api.data(COMPANY, {"id": merged}))["company"]["version"] == 1


async def test_viewers_may_not_merge_members_may(api: Api) -> None:
    survivor, merged = await create_company(api, "Eins"), await create_company(api, "Zwei")
    v = await version(api, survivor)
    variables = {"s": survivor, "m": [merged], "v": v}
    assert error_codes(await api(MERGE_COMPANIES, variables, role="viewer")) == ["FORBIDDEN"]
    assert "errors" not in await api(MERGE_COMPANIES, variables, role="member")


async def test_a_merged_id_resolves_to_the_survivor_through_a_chain_on_both_paths(
    api: Api, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    x = await create_company(api, "X")
    y = await create_company(api, "Y")
    z = await create_company(api, "Z")
    assert "errors" not in await merge(api, y, [x])
    assert "errors" not in await merge(api, z, [y])
    query = "query($id: ID!) { company(id: $id) { id name mergedFrom } }"
    for asked in (x, y, z):
        answer = (await api.data(query, {"id": asked}))["company"]
        assert answer == {"id": z, "name": "Z", "mergedFrom": [x, y]}
    # The compiled path finds no row for a merged id and leaves the answer to the resolver.
    plain = "query($id: ID!) { company(id: $id) { id name } }"
    full_runs = record_full_runs(monkeypatch)
    for _ in range(2):
        assert (await api.data(plain, {"id": x}))["company"] == {"id": z, "name": "Z"}
    assert len(full_runs) == 2
    assert (await api.data(plain, {"id": z}))["company"]["id"] == z
    # Another tenant never sees the tombstone.
    other = await api(plain, {"id": x}, tenant=f"{tenant}-o")
    assert error_codes(other) == ["NOT_FOUND"]
    # A merged id is no survivor and no merged record any more.
    assert error_codes(await merge(api, z, [x])) == ["NOT_FOUND"]
    # An update of a merged id does not follow the tombstone.
    renamed = await api(
        'mutation($id: ID!) { updateCompany(id: $id, input: {name: "N"}) { id } }', {"id": x}
    )
    assert error_codes(renamed) == ["NOT_FOUND"]


async def test_one_event_lists_the_merge(api: Api) -> None:
    survivor = await create_company(api, "Eins", tags=["A"])
    merged = await create_company(api, "Zwei", tags=["B"], website="https://zwei.de")
    contact = await create_contact(api, "Meier", companyId=merged)
    before = await last_seq(api)
    await merge(api, survivor, [merged])
    events = await events_after(api, before)
    assert [e["type"] for e in events] == ["crm.company.merged"]
    [event] = events
    assert event["entityId"] == survivor
    changes = event["changes"]
    assert changes["mergedIds"] == [merged]
    assert changes["fields"] == {
        "website": [None, "https://zwei.de"],
        "tags": [["A"], ["A", "B"]],
    }
    assert changes["moved"]["contacts"] == {"moved": [contact], "dropped": []}
    assert changes["lexwareUnlinked"] == []


EVENTS = """query($after: ID) { events(first: 200, after: $after) {
  edges { cursor node { type entityId changes } } } }"""


async def last_seq(api: Api) -> str | None:
    edges = (await api.data(EVENTS, {"after": None}))["events"]["edges"]
    return edges[-1]["cursor"] if edges else None


async def events_after(api: Api, after: str | None) -> list[dict[str, Any]]:
    edges = (await api.data(EVENTS, {"after": after}))["events"]["edges"]
    return [edge["node"] for edge in edges]


async def test_a_contact_merge_unites_and_moves(api: Api) -> None:
    admin, member = await user_id(api, "admin"), await user_id(api, "member")
    firm = await create_company(api, "Firma")
    survivor = await create_contact(
        api,
        "Schmidt",
        firstName="Anna",
        tags=["a"],
        emails=[{"email": "anna@x.de"}],
        owners=[{"userId": member, "role": "WATCHER"}],
    )
    merged = await create_contact(
        api,
        "Schmitt",
        position="Einkauf",
        companyId=firm,
        tags=["A", "b"],
        emails=[{"email": "ANNA@x.de"}, {"email": "a.schmidt@y.de", "isPrimary": True}],
        owners=[{"userId": member, "role": "MEMBER"}, {"userId": admin, "role": "WATCHER"}],
    )
    await pipeline(api)
    deal = await create(api, "createDeal", "CreateDealInput", {"title": "D", "contactId": merged})
    activity = await create(
        api,
        "createActivity",
        "CreateActivityInput",
        {"type": "CALL", "subject": "c", "contactId": merged},
    )
    v = (await api.data("query($id: ID!) { contact(id: $id) { version } }", {"id": survivor}))[
        "contact"
    ]["version"]
    variables = {
        "s": survivor,
        "m": [merged],
        "v": v,
        "f": [{"field": "LAST_NAME", "fromId": merged}],
    }
    payload = (await api.data(MERGE_CONTACTS, variables))["mergeContacts"]
    result = payload["survivor"]
    assert (result["firstName"], result["lastName"], result["position"], result["companyId"]) == (
        "Anna",
        "Schmitt",
        "Einkauf",
        firm,
    )
    assert result["tags"] == ["a", "b"]
    assert result["emails"] == [
        {"email": "anna@x.de", "isPrimary": True},
        {"email": "a.schmidt@y.de", "isPrimary": False},
    ]
    assert sorted((o["user"]["id"], o["role"]) for o in result["owners"]) == sorted(
        [(member, "MEMBER"), (admin, "WATCHER")]
    )
    moved = moves(payload)
    assert moved["DEALS"] == ({deal}, set()) and moved["ACTIVITIES"] == ({activity}, set())
    assert result["mergedFrom"] == [merged]
    followed = await api.data("query($id: ID!) { contact(id: $id) { id } }", {"id": merged})
    assert followed["contact"]["id"] == survivor


async def test_an_update_committed_while_the_merge_waits_is_merged(
    api: Api, owner_sessions: async_sessionmaker[AsyncSession]
) -> None:
    survivor, merged = await create_company(api, "Eins"), await create_company(api, "Alt")
    v = await version(api, survivor)
    async with owner_sessions() as session:
        await session.execute(sa.text("BEGIN"))
        await session.execute(
            sa.text("UPDATE company SET name = 'Neu' WHERE id = :id"), {"id": uuid.UUID(merged)}
        )
        variables = {
            "s": survivor,
            "m": [merged],
            "v": v,
            "f": [{"field": "NAME", "fromId": merged}],
        }
        merging = asyncio.create_task(api(MERGE_COMPANIES, variables))
        await wait_for_lock_wait(owner_sessions)
        await session.execute(sa.text("COMMIT"))
    result = await asyncio.wait_for(merging, 10)
    assert result["data"]["mergeCompanies"]["survivor"]["name"] == "Neu"


async def wait_for_lock_wait(owner_sessions: async_sessionmaker[AsyncSession]) -> None:
    """Until some transaction waits for a row lock (bounded)."""
    for _ in range(500):
        async with owner_sessions() as session:
            waiting = await session.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            )
            if waiting.scalar_one():
                return
        await asyncio.sleep(0.02)
    raise AssertionError("no transaction waited for a lock")


async def test_two_merges_sharing_records_never_deadlock(api: Api) -> None:
    for _ in range(3):
        a, b = await create_company(api, "A"), await create_company(api, "B")
        x, y = await create_company(api, "X"), await create_company(api, "Y")
        va, vb = await version(api, a), await version(api, b)
        first, second = await asyncio.gather(
            api(MERGE_COMPANIES, {"s": a, "m": [x, y], "v": va}),
            api(MERGE_COMPANIES, {"s": b, "m": [y, x], "v": vb}),
        )
        codes = sorted([error_codes(first), error_codes(second)])
        assert codes == [[], ["NOT_FOUND"]]
        winner = a if not error_codes(first) else b
        for merged in (x, y):
            assert (await api.data(COMPANY, {"id": merged}))["company"]["id"] == winner


async def test_a_merged_survivor_is_queued_for_its_erp_push(
    api: Api, servers: Servers, settings: Settings
) -> None:
    survivor = await create_company(api, "ERP Kunde", tags=["ERP"])
    merged = await create_company(api, "ERP Kunde alt", website="https://kunde.de")
    pool = await create_pool(
        arq_redis_settings(servers.redis_url, settings), default_queue_name="test-merge-erp"
    )
    listener = asyncio.create_task(enqueue_erp_pushes(pool))
    try:
        await asyncio.sleep(0.3)  # subscribed (the creations before were not heard)
        request_id = f"merge-{uuid.uuid4().hex}"
        variables = {"s": survivor, "m": [merged], "v": await version(api, survivor)}
        response = await api.post(
            {"query": MERGE_COMPANIES, "variables": variables},
            token=api.token(),
            headers={"x-request-id": request_id},
        )
        assert "errors" not in response.json()
        job = await queued_job(pool, f"erp-push:{survivor}", "test-merge-erp")
        # Queued by the merge's event (not by a creation's, heard late): it carries its request.
        assert job is not None and job.args[1:3] == ("company", survivor)
        assert job.kwargs["request_id"] == request_id
    finally:
        listener.cancel()
        await pool.aclose()


async def test_a_merge_that_would_overfill_a_list_is_refused(api: Api) -> None:
    def emails(prefix: str) -> list[dict[str, str]]:
        return [{"email": f"{prefix}{n}@x.de"} for n in range(11)]

    survivor = await create_company(api, "Eins", emails=emails("a"))
    merged = await create_company(api, "Zwei", emails=emails("b"))
    refused = await merge(api, survivor, [merged])
    assert error_codes(refused) == ["CONFLICT"] and "at most 20" in refused["errors"][0]["message"]
    tagged = await create_company(api, "Drei", tags=[f"s{n}" for n in range(26)])
    more = await create_company(api, "Vier", tags=[f"m{n}" for n in range(26)])
    refused = await merge(api, tagged, [more])
    assert error_codes(refused) == ["CONFLICT"] and "at most 50" in refused["errors"][0]["message"]
    assert (await api.data(COMPANY, {"id": more}))["company"]["id"] == more


def test_every_table_pointing_at_a_company_or_contact_is_handled_by_the_merge() -> None:
    """A new table with a foreign key to company or contact must be re-pointed by a merge (or
    its rows would be unlinked, or deleted, with the merged record): add it to
    app/services/merges."""
    handled = {
        ("company", COMPANY_MERGE.value_column, "contact_email"),
        ("company", COMPANY_MERGE.value_column, "contact_phone"),
        ("contact", CONTACT_MERGE.value_column, "contact_email"),
        ("contact", CONTACT_MERGE.value_column, "contact_phone"),
        ("company", "from_company_id", "company_relationship"),
        ("company", "to_company_id", "company_relationship"),
        # A record's tag rows (models/record_tags.py) are kept from its `tag_keys` by the
        # database: the survivor's follow its united tags, the merged record's go with it.
        ("company", "company_id", "company_tag"),
        ("contact", "contact_id", "contact_tag"),
    }
    for kind in (COMPANY_MERGE, CONTACT_MERGE):
        target = kind.entity.model.__tablename__
        handled |= {(target, p.column, p.model.__tablename__) for p in kind.pointers}
        handled.add((target, kind.owners.parent_column, kind.owners.entity.model.__tablename__))
    pointing = {
        (fk.column.table.name, fk.parent.name, table.name)
        for table in SQLModel.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name in ("company", "contact") and fk.parent.name != "tenant_id"
    }
    assert pointing == handled


async def test_merged_from_costs_one_statement_per_level(api: Api, sql: StatementCounter) -> None:
    for n in range(3):
        survivor = await create_company(api, f"Rest {n}")
        assert "errors" not in await merge(api, survivor, [await create_company(api, f"Alt {n}")])
    query = "{ companies(first: 50) { edges { node { id mergedFrom } } } }"
    await api.data("{ companies(first: 50) { edges { node { id } } } }")
    sql.statements.clear()
    await api.data("{ companies(first: 50) { edges { node { id } } } }")
    without = sql.count
    sql.statements.clear()
    listed = (await api.data(query))["companies"]["edges"]
    assert sql.count == without + 1
    assert sum(len(e["node"]["mergedFrom"]) for e in listed) == 3


async def test_the_answer_is_costed_at_the_most_a_merge_holds(api: Api) -> None:
    survivor, merged = await create_company(api, "Eins"), await create_company(api, "Zwei")
    result = await api(
        """mutation($s: ID!, $m: [ID!]!) { mergeCompanies(survivorId: $s, mergedIds: $m,
          expectedVersion: 1, dryRun: true) { merged { id } moved { relation } } }""",
        {"s": survivor, "m": [merged]},
    )
    assert "errors" not in result
    assert result["extensions"]["cost"] == 1 + MAX_MERGED + len(MergeRelation)


async def trash(owner_sessions: async_sessionmaker[AsyncSession], table: str, row_id: str) -> None:
    """Trashed as the trash leaves a row (deleted_at set: hidden from every ordinary read)."""
    async with owner_sessions() as session, session.begin():
        await session.execute(
            sa.text(f"UPDATE {table} SET deleted_at = now() WHERE id = :id"),
            {"id": uuid.UUID(row_id)},
        )


async def test_trashed_rows_follow_the_survivor_and_trashed_records_cannot_merge(
    api: Api, owner_sessions: async_sessionmaker[AsyncSession]
) -> None:
    survivor, merged = await create_company(api, "Eins"), await create_company(api, "Zwei")
    await pipeline(api)
    trashed = {
        "deal": await create(api, "createDeal", "CreateDealInput", {"title": "D", "companyId": merged}),
        "contact": await create_contact(api, "Papierkorb", companyId=merged),
        "activity": await create(
            api, "createActivity", "CreateActivityInput",
            {"type": "NOTE", "subject": "n", "companyId": merged},
        ),
        "contract": await create(
            api, "createContract", "CreateContractInput", {"companyId": merged, "title": "V"}
        ),
    }  # fmt: skip
    for table, row_id in trashed.items():
        await trash(owner_sessions, table, row_id)
    payload = (await merge(api, survivor, [merged]))["data"]["mergeCompanies"]
    moved = moves(payload)
    assert moved["DEALS"][0] == {trashed["deal"]}
    assert moved["CONTACTS"][0] == {trashed["contact"]}
    async with owner_sessions() as session:
        for table, row_id in trashed.items():
            company = await session.execute(
                sa.text(f"SELECT company_id FROM {table} WHERE id = :id"), {"id": uuid.UUID(row_id)}
            )
            assert str(company.scalar_one()) == survivor, table
    gone, other = await create_company(api, "Weg"), await create_company(api, "Da")
    await trash(owner_sessions, "company", gone)
    for survivor_id, merged_ids in ((gone, [other]), (other, [gone])):
        refused = await api(MERGE_COMPANIES, {"s": survivor_id, "m": merged_ids, "v": 1})
        assert error_codes(refused) == ["NOT_FOUND"] and gone in refused["errors"][0]["message"]


def test_phones_are_one_by_their_e164_form_where_they_have_one() -> None:
    """Phones with a stored E.164 form (the duplicates' column) compare by it, others by their
    digits: `0711 12340` and `+49 711 12340` are one number."""
    survivor, merged = uuid.uuid4(), uuid.uuid4()
    request = MergeRequest(survivor, (merged,), expected_version=1)

    def phone(owner: uuid.UUID, text: str, e164: str | None, primary: bool = False) -> Any:
        return SimpleNamespace(
            id=uuid.uuid4(), company_id=owner, phone=text, e164=e164, is_primary=primary,
            created_at=datetime.now(UTC),
        )  # fmt: skip

    mine = phone(survivor, "+49 711 12340", "+4971112340", primary=True)
    same = phone(merged, "0711 12340", "+4971112340", primary=True)
    unreadable = phone(merged, "12340", None)
    digits_only = phone(merged, "(12) 340", None)
    plan = plan_values(PHONES, "company_id", request, [mine, same, unreadable, digits_only])
    assert plan.dropped == [same.id, digits_only.id]
    assert plan.moved == [unreadable.id] and plan.new_primary is None


async def test_a_deal_held_by_another_transaction_is_waited_for_before_the_records(
    api: Api, owner_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The merge locks the deals before the records, as a voucher link or a delete does: a
    transaction that holds a deal and then needs one of the records (moving the deal to the
    survivor) goes on, where locking the records first would be a deadlock."""
    survivor, merged = await create_company(api, "Eins"), await create_company(api, "Zwei")
    await pipeline(api)
    deal = await create(api, "createDeal", "CreateDealInput", {"title": "D", "companyId": merged})
    v = await version(api, survivor)
    async with owner_sessions() as session:
        await session.execute(sa.text("BEGIN"))
        held = {"id": uuid.UUID(deal), "s": uuid.UUID(survivor)}
        await session.execute(sa.text("SELECT id FROM deal WHERE id = :id FOR UPDATE"), held)
        merging = asyncio.create_task(api(MERGE_COMPANIES, {"s": survivor, "m": [merged], "v": v}))
        await wait_for_lock_wait(owner_sessions)
        await session.execute(sa.text("UPDATE deal SET company_id = :s WHERE id = :id"), held)
        await session.execute(sa.text("COMMIT"))
    result = await asyncio.wait_for(merging, 10)
    assert "errors" not in result
    company = (await api.data(COMPANY, {"id": merged}))["company"]
    assert company["id"] == survivor and [d["id"] for d in nodes(company["deals"])] == [deal]


async def test_merged_from_is_read_by_the_compiled_path_too(
    api: Api, compiled_sql: StatementCounter
) -> None:
    """`mergedFrom` is a column of the records' statement on the compiled path (in verify mode
    every answer is also compared with the executor's: `compiled_agrees`)."""
    survivor, merged = await create_company(api, "Bleibt"), await create_company(api, "Geht")
    assert "errors" not in await merge(api, survivor, [merged])
    compiled_sql.statements.clear()
    query = "query($id: ID!) { company(id: $id) { id mergedFrom } }"
    assert (await api.data(query, {"id": survivor}))["company"]["mergedFrom"] == [merged]
    listed = await api.data("{ companies(first: 5) { edges { node { id mergedFrom } } } }")
    assert [e["node"]["mergedFrom"] for e in listed["companies"]["edges"]] == [[merged]]
    assert compiled_sql.count == 2
    for statement in compiled_sql.statements:  # the tombstones of this tenant only
        assert re.search(r"merged_record\.tenant_id = \$\d", statement), statement


BOARD = """subscription($p: ID!) { dealChanged(pipelineId: $p) {
  dealId onBoard event { type } deal { title companyId } } }"""


async def test_the_deal_board_shows_the_cards_a_merge_moved(api: Api, live: str) -> None:
    board = await pipeline(api)
    survivor, merged = await create_company(api, "Eins"), await create_company(api, "Zwei")
    moved = await create(
        api, "createDeal", "CreateDealInput",
        {"title": "Wandert", "companyId": merged, "pipelineId": board["id"]},
    )  # fmt: skip
    other_board = await pipeline(api, "Service")
    await create(
        api, "createDeal", "CreateDealInput",
        {"title": "Anderswo", "companyId": merged, "pipelineId": other_board["id"]},
    )  # fmt: skip
    async with graphql_socket(live) as socket:
        await socket.init(api.token())
        await socket.subscribe(BOARD, {"p": board["id"]})
        await asyncio.sleep(0.3)
        assert "errors" not in await merge(api, survivor, [merged])
        change = (await socket.next_data())["dealChanged"]
        assert await socket.nothing_within(0.5)  # not the other board's card
    assert change == {
        "dealId": moved,
        "onBoard": True,
        "event": {"type": "crm.company.merged"},
        "deal": {"title": "Wandert", "companyId": survivor},
    }


async def test_purging_a_survivor_takes_its_tombstones_with_it(
    api: Api, owner_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A merged id resolves to its survivor while the survivor lives, trashed or not in the
    way a lookup sees it; purged for good, the survivor takes its tombstones with it and the
    merged id answers NOT_FOUND like the survivor's own."""
    survivor = await create_company(api, "Bleibt GmbH")
    merged = await create_company(api, "Geht GmbH")
    assert "errors" not in await merge(api, survivor, [merged])
    lookup = "query($id: ID!) { company(id: $id) { id mergedFrom } }"
    assert (await api.data(lookup, {"id": merged}))["company"]["mergedFrom"] == [merged]
    await api.data("mutation($id: ID!) { deleteCompany(id: $id) }", {"id": survivor})
    purged = await api("mutation($id: ID!) { purgeCompany(id: $id) }", {"id": survivor})
    assert "errors" not in purged, purged
    for gone in (survivor, merged):
        assert error_codes(await api(lookup, {"id": gone})) == ["NOT_FOUND"]
    async with owner_sessions() as session:
        left = await session.execute(
            sa.text("SELECT count(*) FROM merged_record WHERE survivor_id = :s"), {"s": survivor}
        )
        assert left.scalar_one() == 0


async def test_a_relationship_with_a_trashed_company_follows_the_survivor(api: Api) -> None:
    """A relationship of a merged company with a company in the trash is hidden, not gone:
    the merge re-points it (the cascade of the merged row's delete would take it otherwise),
    and it is back, with the survivor, when the trashed company is restored."""
    survivor = await create_company(api, "Bleibt AG")
    merged = await create_company(api, "Geht AG")
    partner = await create_company(api, "Partner KG")
    related = await relate(api, merged, partner, await relationship_type(api, "Lieferant"))
    await api.data("mutation($id: ID!) { deleteCompany(id: $id) }", {"id": partner})
    answer = await merge(api, survivor, [merged])
    assert "errors" not in answer, answer
    assert moves(answer["data"]["mergeCompanies"])["RELATIONSHIPS"] == ({related}, set())
    await api.data("mutation($id: ID!) { restoreCompany(id: $id) { id } }", {"id": partner})
    company = (await api.data(COMPANY, {"id": survivor}))["company"]
    assert [r["otherCompany"]["id"] for r in nodes(company["relationships"])] == [partner]
