"""Vouchers from Lexware on companies, contacts and deals."""

from __future__ import annotations

from tests.conftest import error_codes
from tests.lexware_fixtures import ACME, Lexware
from tests.test_deals import deal, pipeline
from tests.test_events import events
from tests.test_lexware_contacts import IMPORT

VOUCHERS = """query($id: ID!) { company(id: $id) { lexwareVouchers(first: 5) {
  id lexwareVoucherId voucherType voucherStatus voucherNumber voucherDate dueDate totalAmount openAmount currency webAppUrl } } }"""
REFRESH = "mutation($id: ID!) { refreshCompanyVouchers(id: $id) { id } }"
DEAL_VOUCHERS = "query($id: ID!) { deal(id: $id) { lexwareVouchers { linkedAt linkedBy { id } voucher { id voucherNumber } } } }"
LINK = "mutation($d: ID!, $v: ID!) { linkVoucherToDeal(dealId: $d, voucherId: $v) { id } }"
TEXTS = "query($id: ID!) { company(id: $id) { lexwareVouchers { voucherNumber contactName } } }"
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
    assert before["company"]["lexwareVouchers"] == []
    await lexware.api.data(REFRESH, {"id": company_id})
    shown = (await lexware.api.data(VOUCHERS, {"id": company_id}))["company"]["lexwareVouchers"]
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
        "query($id: ID!) { company(id: $id) { lexwareVouchers(first: 200) { id } } }",
        {"id": company_id},
    )
    assert (
        len(count["company"]["lexwareVouchers"]) == 200
    )  # the nested list's cap; all 260 are cached


async def test_vouchers_link_to_deals_with_who_and_when(lexware: Lexware) -> None:
    company_id, _ = await imported_with_vouchers(lexware, 2)
    await lexware.api.data(REFRESH, {"id": company_id})
    voucher = (await lexware.api.data(VOUCHERS, {"id": company_id}))["company"]["lexwareVouchers"][
        0
    ]
    await pipeline(lexware.api)
    created = await deal(lexware.api)
    await lexware.api.data(LINK, {"d": created["id"], "v": voucher["id"]})
    linked = (await lexware.api.data(DEAL_VOUCHERS, {"id": created["id"]}))["deal"][
        "lexwareVouchers"
    ]
    me = (await lexware.api.data("{ me { user { id } } }"))["me"]["user"]["id"]
    assert [(v["voucher"]["id"], v["linkedBy"]["id"]) for v in linked] == [(voucher["id"], me)]
    assert linked[0]["linkedAt"]
    assert error_codes(await lexware.api(LINK, {"d": created["id"], "v": voucher["id"]})) == [
        "CONFLICT"
    ]
    await lexware.api.data(UNLINK, {"d": created["id"], "v": voucher["id"]})
    assert (await lexware.api.data(DEAL_VOUCHERS, {"id": created["id"]}))["deal"][
        "lexwareVouchers"
    ] == []
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
    texts = {(v["voucherNumber"], v["contactName"]) for v in shown["company"]["lexwareVouchers"]}
    assert ("RE-2026&1", "Acme & Söhne GmbH") in texts  # before: "Acme &amp; Söhne GmbH"
    assert "Kunde <Filiale> & Co" in {name for _, name in texts}
