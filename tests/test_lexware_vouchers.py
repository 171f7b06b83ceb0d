"""Vouchers from Lexware on companies, contacts and deals."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from app.data.engine import async_url, create_engine, create_session_factory
from app.data.tenancy import TenantScope
from app.services.companies.service import delete_company
from app.services.lexware.sync import sync_tenant_vouchers
from app.services.lexware.vouchers import link_to_deal
from app.settings import Settings
from models import Company, LexwareVoucher
from tests.conftest import error_codes
from tests.factories import nodes
from tests.lexware_fixtures import ACME, PERSON, Lexware
from tests.test_deals import deal, pipeline
from tests.test_events import events
from tests.test_lexware_contacts import IMPORT, company
from tests.test_lexware_robustness import scope_of

VOUCHERS = """query($id: ID!) { company(id: $id) { lexwareVouchers(first: 5) { edges { node {
  id lexwareVoucherId voucherType voucherStatus voucherNumber voucherDate dueDate totalAmount openAmount currency webAppUrl } } } } }"""
REFRESH = "mutation($id: ID!) { refreshCompanyVouchers(id: $id) { id } }"
DEAL_VOUCHERS = "query($id: ID!) { deal(id: $id) { lexwareVouchers { edges { node { linkedAt linkedBy { id } voucher { id voucherNumber } } } } } }"
LINK = "mutation($d: ID!, $v: ID!) { linkVoucherToDeal(dealId: $d, voucherId: $v) { id } }"
TEXTS = "query($id: ID!) { company(id: $id) { lexwareVouchers { edges { node { voucherNumber contactName } } } } }"
LEXWARE_ID = "query($id: ID!) { company(id: $id) { lexwareContactId } }"
UNLINK = "mutation($d: ID!, $v: ID!) { unlinkVoucherFromDeal(dealId: $d, voucherId: $v) { id } }"


async def imported_with_vouchers(lexware: Lexware, count: int) -> tuple[str, list[dict]]:  # type: ignore[type-arg]
    acme = lexware.seed(ACME)
    seeded = [
        lexware.fake.seed_voucher(
            lexware.key,
            {
                "contactId": acme["id"],
                "voucherDate": f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}T10:00:00.000+01:00",
                "totalAmount": 100 + n,
            },
        )
        for n in range(count)
    ]
    lexware.fake.seed_voucher(
        lexware.key, {"voucherType": "quotation", "totalAmount": 5}
    )  # someone else's
    company = (await lexware.api.data(IMPORT, {"l": acme["id"]}))["importCompanyFromLexware"]
    return company["id"], seeded


async def test_refresh_caches_the_companys_vouchers_newest_first(lexware: Lexware) -> None:
    company_id, seeded = await imported_with_vouchers(lexware, 3)
    before = await lexware.api.data(VOUCHERS, {"id": company_id})
    assert nodes(before["company"]["lexwareVouchers"]) == []
    await lexware.api.data(REFRESH, {"id": company_id})
    shown = nodes(
        (await lexware.api.data(VOUCHERS, {"id": company_id}))["company"]["lexwareVouchers"]
    )
    newest = sorted(seeded, key=lambda v: v["voucherDate"], reverse=True)
    assert [v["lexwareVoucherId"] for v in shown] == [v["id"] for v in newest]
    first = shown[0]
    assert first["voucherType"] == "invoice" and first["currency"] == "EUR"
    assert first["totalAmount"] == f"{newest[0]['totalAmount']:.2f}"
    assert first["webAppUrl"].endswith(f"/permalink/invoices/view/{first['lexwareVoucherId']}")


async def test_refresh_reads_every_page(lexware: Lexware) -> None:
    company_id, _seeded = await imported_with_vouchers(lexware, 260)
    await lexware.api.data(REFRESH, {"id": company_id})
    pages = [r for r in lexware.calls("GET") if r.path == "/v1/voucherlist"]
    assert len(pages) == 2
    count = await lexware.api.data(
        "query($id: ID!) { company(id: $id) { lexwareVouchers(first: 200) { totalCount edges { node { id } } } } }",
        {"id": company_id},
    )
    assert len(nodes(count["company"]["lexwareVouchers"])) == 200  # the nested list's cap
    assert count["company"]["lexwareVouchers"]["totalCount"] == 260  # all are cached


async def test_vouchers_link_to_deals_with_who_and_when(lexware: Lexware) -> None:
    company_id, _ = await imported_with_vouchers(lexware, 2)
    await lexware.api.data(REFRESH, {"id": company_id})
    voucher = nodes(
        (await lexware.api.data(VOUCHERS, {"id": company_id}))["company"]["lexwareVouchers"]
    )[0]
    await pipeline(lexware.api)
    created = await deal(lexware.api, companyId=company_id)
    await lexware.api.data(LINK, {"d": created["id"], "v": voucher["id"]})
    linked = nodes(
        (await lexware.api.data(DEAL_VOUCHERS, {"id": created["id"]}))["deal"]["lexwareVouchers"]
    )
    me = (await lexware.api.data("{ me { user { id } } }"))["me"]["user"]["id"]
    assert [(v["voucher"]["id"], v["linkedBy"]["id"]) for v in linked] == [(voucher["id"], me)]
    assert linked[0]["linkedAt"]
    assert error_codes(await lexware.api(LINK, {"d": created["id"], "v": voucher["id"]})) == [
        "CONFLICT"
    ]
    await lexware.api.data(UNLINK, {"d": created["id"], "v": voucher["id"]})
    assert (
        nodes(
            (await lexware.api.data(DEAL_VOUCHERS, {"id": created["id"]}))["deal"][
                "lexwareVouchers"
            ]
        )
        == []
    )
    assert error_codes(await lexware.api(UNLINK, {"d": created["id"], "v": voucher["id"]})) == [
        "NOT_FOUND"
    ]
    types = [
        e["type"] for e in await events(lexware.api, entityId=created["id"], types=["crm.deal.*"])
    ]
    assert types[-2:] == ["crm.deal.voucher_linked", "crm.deal.voucher_unlinked"]
    other = await lexware.api(
        LINK, {"d": created["id"], "v": voucher["id"]}, tenant="x-" + lexware.api.tenant
    )
    assert error_codes(other) == ["NOT_FOUND"]


async def test_voucher_texts_arrive_unescaped(lexware: Lexware) -> None:
    """Lexware sends names and numbers HTML-escaped ("Acme &amp; Söhne GmbH"): shown as text."""
    company_id, _ = await imported_with_vouchers(lexware, 0)
    acme_id = (await lexware.api.data(LEXWARE_ID, {"id": company_id}))["company"]
    for extra in ({"voucherNumber": "RE-2026&1"}, {"contactName": "Kunde <Filiale> & Co"}):
        lexware.fake.seed_voucher(lexware.key, {"contactId": acme_id["lexwareContactId"], **extra})
    await lexware.api.data(REFRESH, {"id": company_id})
    shown = await lexware.api.data(TEXTS, {"id": company_id})
    texts = {
        (v["voucherNumber"], v["contactName"]) for v in nodes(shown["company"]["lexwareVouchers"])
    }
    assert ("RE-2026&1", "Acme & Söhne GmbH") in texts  # before: "Acme &amp; Söhne GmbH"
    assert "Kunde <Filiale> & Co" in {name for _, name in texts}


async def cached_voucher_id(lexware: Lexware, lexware_voucher_id: str) -> str:
    scope = await scope_of(lexware)
    wanted = col(LexwareVoucher.lexware_voucher_id) == uuid.UUID(lexware_voucher_id)
    async with scope.reading() as session:
        found = await session.execute(sa.select(col(LexwareVoucher.id)).where(wanted))
        return str(found.scalar_one())


def refusal(result: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert [f["field"] for f in error["extensions"]["fields"]] == ["voucherId"]
    return error["message"], error["extensions"]


async def test_a_voucher_links_only_to_a_deal_of_its_customer(lexware: Lexware) -> None:
    acme, inge = lexware.seed(ACME), lexware.seed(PERSON)
    beta = lexware.seed({**ACME, "company": {"name": "Beta GmbH"}})
    for number, owner in (("RE-1", acme), ("RE-2", inge)):
        lexware.fake.seed_voucher(lexware.key, {"contactId": owner["id"], "voucherNumber": number})
    collective = {"voucherType": "salesinvoice", "voucherNumber": "RE-0"}  # no contactId
    lexware.fake.seed_voucher(lexware.key, collective)
    import_contact = "mutation($l: ID!) { importContactFromLexware(lexwareContactId: $l) { id } }"
    ids = {
        "acme": (await lexware.api.data(IMPORT, {"l": acme["id"]}))["importCompanyFromLexware"],
        "beta": (await lexware.api.data(IMPORT, {"l": beta["id"]}))["importCompanyFromLexware"],
        "inge": (await lexware.api.data(import_contact, {"l": inge["id"]}))[
            "importContactFromLexware"
        ],
    }
    ids = {name: record["id"] for name, record in ids.items()}
    await sync_tenant_vouchers(lexware.app.state.runtime.lexware, await scope_of(lexware))
    org_vouchers = lexware.fake.organization(lexware.key).vouchers.values()
    of = {v.contact_id: await cached_voucher_id(lexware, v.id) for v in org_vouchers}
    await pipeline(lexware.api)

    async def link(voucher: str, **parties: str) -> dict[str, Any]:
        created = await deal(lexware.api, **parties)
        return await lexware.api(LINK, {"d": created["id"], "v": voucher})

    message, extensions = refusal(await link(of[acme["id"]], companyId=ids["beta"]))
    assert (
        message
        == 'Voucher RE-1 belongs to Lexware contact "Acme & Söhne GmbH", not to the deal\'s company "Beta GmbH".'
    )
    assert extensions["voucher"]["lexwareContactId"] == acme["id"]
    assert extensions["deal"]["company"] == {
        "id": ids["beta"],
        "name": "Beta GmbH",
        "lexwareContactId": beta["id"],
    }
    both = await link(of[acme["id"]], companyId=ids["beta"], contactId=ids["inge"])
    assert refusal(both)[0].endswith(
        'not to the deal\'s company "Beta GmbH" nor its contact "Inge Musterfrau".'
    )
    assert "errors" not in await link(of[acme["id"]], companyId=ids["acme"])
    assert "errors" not in await link(of[inge["id"]], companyId=ids["beta"], contactId=ids["inge"])
    message, _ = refusal(await link(of[None], companyId=ids["acme"]))
    assert message.startswith("Voucher RE-0 belongs to Lexware's collective contact")
    message, _ = refusal(await link(of[acme["id"]]))
    assert message.startswith("The deal has neither a company nor a contact")
    unlinked = await company(lexware, name="Ohne Link GmbH")
    message, _ = refusal(await link(of[acme["id"]], companyId=unlinked["id"]))
    assert message.startswith('The deal\'s company "Ohne Link GmbH" is not linked to Lexware')
    linked = await events(lexware.api, types=["crm.deal.voucher_linked"])
    assert len(linked) == 2  # the refused ones linked nothing


UPDATE_DEAL = "mutation($id: ID!, $i: UpdateDealInput!) { updateDeal(id: $id, input: $i) { id company { id } contact { id } } }"
LINK_COMPANY = "mutation($c: ID!, $l: ID!) { linkCompanyToLexware(companyId: $c, lexwareContactId: $l) { lexwareContactId } }"
UNLINK_COMPANY = (
    "mutation($c: ID!) { unlinkCompanyFromLexware(companyId: $c) { lexwareContactId } }"
)


def left_behind(result: dict[str, Any]) -> list[str | None]:
    [error] = result["errors"]
    assert error["extensions"]["code"] == "CONFLICT", error
    assert "would no longer belong to its customer" in error["message"]
    assert "unlinkVoucherFromDeal" in error["message"]
    return [v["voucherNumber"] for v in error["extensions"]["vouchers"]]


LINK_THEN_UNLINK = """mutation($d: ID!, $v: ID!) {
  linked: linkVoucherToDeal(dealId: $d, voucherId: $v) { id lexwareVouchers { edges { node { voucher { id } } } } }
  unlinked: unlinkVoucherFromDeal(dealId: $d, voucherId: $v) { id lexwareVouchers { edges { node { voucher { id } } } } }
}"""


async def test_voucher_links_answer_the_deal_with_its_vouchers_after_each_write(
    lexware: Lexware,
) -> None:
    """Each root field's answer reads the deal's vouchers after its own write: the unlink's
    answer is not served the list the link's answer read (resolvers/mutation_roots.py)."""
    company_id, _ = await imported_with_vouchers(lexware, 1)
    await lexware.api.data(REFRESH, {"id": company_id})
    voucher = nodes(
        (await lexware.api.data(VOUCHERS, {"id": company_id}))["company"]["lexwareVouchers"]
    )[0]
    await pipeline(lexware.api)
    created = await deal(lexware.api, companyId=company_id)
    both = await lexware.api.data(LINK_THEN_UNLINK, {"d": created["id"], "v": voucher["id"]})
    assert both["linked"] == {
        "id": created["id"],
        "lexwareVouchers": {"edges": [{"node": {"voucher": {"id": voucher["id"]}}}]},
    }
    assert both["unlinked"] == {"id": created["id"], "lexwareVouchers": {"edges": []}}


async def test_a_deals_vouchers_stay_with_its_customer(lexware: Lexware) -> None:
    """A change that would leave a linked voucher with another customer is refused: a deal's
    new company or contact, its company linked to another Lexware contact, or unlinked."""
    acme, beta, inge = lexware.seed(ACME), lexware.seed({**ACME, "company": {"name": "Beta"}}), lexware.seed(PERSON)  # fmt: skip
    lexware.fake.seed_voucher(lexware.key, {"contactId": acme["id"], "voucherNumber": "RE-7"})
    acme_crm = (await lexware.api.data(IMPORT, {"l": acme["id"]}))["importCompanyFromLexware"]
    beta_crm = await company(lexware, name="Beta GmbH")
    inge_crm = await lexware.api.data(
        "mutation($l: ID!) { importContactFromLexware(lexwareContactId: $l) { id } }",
        {"l": inge["id"]},
    )
    await sync_tenant_vouchers(lexware.app.state.runtime.lexware, await scope_of(lexware))
    [seeded] = lexware.fake.organization(lexware.key).vouchers.values()
    voucher = await cached_voucher_id(lexware, seeded.id)
    await pipeline(lexware.api)
    created = await deal(lexware.api, companyId=acme_crm["id"])
    await lexware.api.data(LINK, {"d": created["id"], "v": voucher})

    moved = await lexware.api(
        UPDATE_DEAL, {"id": created["id"], "i": {"companyId": beta_crm["id"]}}
    )
    assert left_behind(moved) == ["RE-7"]  # before: moved, RE-7 of Acme on a deal of Beta
    cleared = await lexware.api(UPDATE_DEAL, {"id": created["id"], "i": {"companyId": None}})
    assert left_behind(cleared) == ["RE-7"]
    contact = {"contactId": inge_crm["importContactFromLexware"]["id"]}
    kept = await lexware.api.data(UPDATE_DEAL, {"id": created["id"], "i": contact})
    assert kept["updateDeal"]["company"] == {"id": acme_crm["id"]}  # RE-7 is still Acme's
    relinked = await lexware.api(LINK_COMPANY, {"c": acme_crm["id"], "l": beta["id"]})
    assert left_behind(relinked) == ["RE-7"]  # before: Acme's voucher on a deal of "Beta"
    assert left_behind(await lexware.api(UNLINK_COMPANY, {"c": acme_crm["id"]})) == ["RE-7"]
    shown = await lexware.api.data(LEXWARE_ID, {"id": acme_crm["id"]})
    assert shown["company"]["lexwareContactId"] == acme["id"]  # nothing changed
    await lexware.api.data(UNLINK, {"d": created["id"], "v": voucher})
    unlinked = await lexware.api.data(UNLINK_COMPANY, {"c": acme_crm["id"]})
    assert unlinked["unlinkCompanyFromLexware"]["lexwareContactId"] is None


async def test_a_voucher_link_and_the_deletion_of_the_deals_company_do_not_deadlock(
    lexware: Lexware, settings: Settings
) -> None:
    """Both lock the deal before its contact: linkVoucherToDeal holds the deal, then its
    company, then its contact; deleteCompany detaches the company's deals before its contacts
    (before: contacts first, and each waited for the other until PostgreSQL broke it off)."""
    acme = lexware.seed(ACME)
    lexware.fake.seed_voucher(lexware.key, {"contactId": acme["id"], "voucherNumber": "RE-9"})
    acme_crm = (await lexware.api.data(IMPORT, {"l": acme["id"]}))["importCompanyFromLexware"]
    person = await lexware.api.data(
        'mutation($c: ID!) { createContact(input: {lastName: "Muster", companyId: $c}) { id } }',
        {"c": acme_crm["id"]},
    )
    scope = await scope_of(lexware)
    await sync_tenant_vouchers(lexware.app.state.runtime.lexware, scope)
    [seeded] = lexware.fake.organization(lexware.key).vouchers.values()
    voucher = uuid.UUID(await cached_voucher_id(lexware, seeded.id))
    await pipeline(lexware.api)
    contact_id = person["createContact"]["id"]
    created = await deal(lexware.api, companyId=acme_crm["id"], contactId=contact_id)
    # Sessions without the request's lock timeout: the test holds a lock on purpose.
    engine = create_engine(async_url(str(settings.database_url)))
    waiting = sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted")
    try:
        unbounded = TenantScope(scope.tenant_id, scope.actor_id, create_session_factory(engine))
        company_id, deal_id = uuid.UUID(acme_crm["id"]), uuid.UUID(created["id"])
        async with unbounded.writing() as holder:  # holds the company: the link waits there
            locked = sa.select(col(Company.id)).where(col(Company.id) == company_id)
            await holder.execute(locked.with_for_update())
            link = asyncio.create_task(link_to_deal(unbounded, deal_id, voucher))
            await until_waiting(engine, waiting, 1)  # holding the deal, waiting for the company
            delete = asyncio.create_task(delete_company(unbounded, company_id))
            await until_waiting(engine, waiting, 2)  # waiting for the deal the link holds
        await asyncio.wait_for(asyncio.gather(link, delete), timeout=30)  # before: deadlock
    finally:
        await engine.dispose()
    shown = await lexware.api.data(DEAL_VOUCHERS, {"id": created["id"]})
    assert [v["voucher"]["voucherNumber"] for v in nodes(shown["deal"]["lexwareVouchers"])] == [
        "RE-9"
    ]
    assert (await lexware.api.data("{ companies { totalCount } }"))["companies"]["totalCount"] == 0


async def until_waiting(engine: AsyncEngine, count: sa.TextClause, wanted: int) -> None:
    async with asyncio.timeout(30):
        while True:
            async with engine.connect() as connection:
                if await connection.scalar(count) >= wanted:
                    return
            await asyncio.sleep(0.02)


DEAL_PAGE = """query($id: ID!, $n: Int!) { deal(id: $id) { id lexwareVouchers(first: $n) {
  edges { node { voucher { voucherDate } } } } } }"""


async def test_a_deals_vouchers_are_a_bounded_page_the_cost_counts(lexware: Lexware) -> None:
    """Deal.lexwareVouchers had no `first` and no LIMIT: the cost counted it as 200 whatever
    was linked. Company.lexwareVouchers took any `first`, past MAX_PAGE_SIZE."""
    company_id, _ = await imported_with_vouchers(lexware, 3)
    await lexware.api.data(REFRESH, {"id": company_id})
    vouchers = (await lexware.api.data(VOUCHERS, {"id": company_id}))["company"]
    await pipeline(lexware.api)
    created = await deal(lexware.api, companyId=company_id)
    for voucher in nodes(vouchers["lexwareVouchers"]):
        await lexware.api.data(LINK, {"d": created["id"], "v": voucher["id"]})
    newest = [v["voucherDate"] for v in nodes(vouchers["lexwareVouchers"])]
    page = await lexware.api(DEAL_PAGE, {"id": created["id"], "n": 2})
    assert "errors" not in page, page["errors"]
    dates = [
        link["voucher"]["voucherDate"] for link in nodes(page["data"]["deal"]["lexwareVouchers"])
    ]
    assert dates == newest[:2]
    # the deal; the connection, two edges, two links (nodes) and their two vouchers
    assert page["extensions"]["cost"] == 1 + (1 + 2 + 2) + 2
    everything = await lexware.api.data(DEAL_PAGE, {"id": created["id"], "n": 3})
    assert len(nodes(everything["deal"]["lexwareVouchers"])) == 3
    for query, variables in (
        (DEAL_PAGE, {"id": created["id"], "n": 201}),
        (VOUCHERS.replace("5", "201"), {"id": company_id}),
    ):
        assert error_codes(await lexware.api(query, variables)) == ["BAD_USER_INPUT"]
