"""The fake Lexware server speaks the contract of Lexware's public API documentation
(https://developers.lexware.io/docs/) over real HTTP.

Every test starts its own fake on 127.0.0.1 and talks to it with aiohttp. The rate limit is off
except in the tests about it, so the suite stays fast.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from fake_lexware.server import FakeLexware, running_fake

KEY = "key-of-org-a"
OTHER_KEY = "key-of-org-b"
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$")
ENVELOPE_KEYS = {
    "content",
    "first",
    "last",
    "totalPages",
    "totalElements",
    "numberOfElements",
    "size",
    "number",
    "sort",
}
REGULAR_KEYS = {"timestamp", "status", "error", "path", "traceId", "message", "details"}


@dataclass
class Reply:
    status: int
    body: Any
    headers: CIMultiDictProxy[str]


@dataclass
class Lexware:
    """A client of one running fake; `key` is sent as Bearer token unless a call overrides it."""

    url: str
    fake: FakeLexware
    session: aiohttp.ClientSession

    async def call(self, method: str, path: str, *, key: str | None = KEY, **kwargs: Any) -> Reply:
        headers = dict(kwargs.pop("headers", {}))
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        async with self.session.request(
            method, self.url + path, headers=headers, **kwargs
        ) as response:
            raw = await response.read()
            body = await response.json(content_type=None) if raw else None
            return Reply(response.status, body, response.headers)

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return await self.call("POST", path, json=body, **kwargs)

    async def put(self, path: str, body: Any, **kwargs: Any) -> Reply:
        return await self.call("PUT", path, json=body, **kwargs)


async def start(fake: FakeLexware) -> AsyncIterator[Lexware]:
    fake.add_api_key(KEY)
    fake.add_api_key(OTHER_KEY)
    async with running_fake(fake) as (url, state), aiohttp.ClientSession() as session:
        assert url.startswith("http://127.0.0.1:")
        yield Lexware(url, state, session)


@pytest.fixture
async def lex() -> AsyncIterator[Lexware]:
    async for client in start(FakeLexware(rate_limit_enabled=False)):
        yield client


@pytest.fixture
async def limited() -> AsyncIterator[Lexware]:
    async for client in start(FakeLexware()):
        yield client


def company(name: str = "Testfirma GmbH", **extra: Any) -> dict[str, Any]:
    return {"version": 0, "roles": {"customer": {}}, "company": {"name": name}, **extra}


def person(last: str = "Musterfrau", first: str = "Inge", **extra: Any) -> dict[str, Any]:
    return {
        "version": 0,
        "roles": {"customer": {}},
        "person": {"firstName": first, "lastName": last},
        **extra,
    }


def missing_entity(source: str) -> dict[str, Any]:
    return {
        "i18nKey": "missing_entity",
        "source": source,
        "type": "validation_failure",
        "additionalData": None,
        "args": None,
    }


async def names(lex: Lexware, *, key: str = KEY, **params: Any) -> list[str]:
    """The names on the first contacts page for the given filters."""
    reply = await lex.get("/v1/contacts", key=key, params=params)
    assert reply.status == 200, reply.body
    return [
        c["company"]["name"] if "company" in c else c["person"]["lastName"]
        for c in reply.body["content"]
    ]


# --- auth and gateway -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header", [None, "Bearer unknown-key", "Basic a2V5", "Bearer", f"Bearer {KEY} extra"]
)
async def test_missing_malformed_or_unknown_key_is_401(lex: Lexware, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    reply = await lex.get("/v1/contacts", key=None, headers=headers)
    assert (reply.status, reply.body) == (401, {"message": "Unauthorized"})


async def test_unknown_route_or_method_is_the_gateway_403(lex: Lexware) -> None:
    message = f"'{KEY}' not a valid key=value pair (missing equal-sign) in Authorization header: 'Bearer {KEY}'."
    contact = lex.fake.seed_contact(KEY, company())
    for method, path in [
        ("GET", "/v1/nothing-here"),
        ("POST", "/v1/voucherlist"),
        ("DELETE", f"/v1/contacts/{contact['id']}"),
        ("HEAD", "/v1/contacts"),
        ("GET", "/elsewhere"),
    ]:
        reply = await lex.call(method, path)
        assert reply.status == 403, (method, path)
        if method != "HEAD":
            assert reply.body == {"message": message}
    assert lex.fake.contact(KEY, contact["id"]) is not None  # DELETE did nothing
    # unknown routes answer 403 before any key check
    assert (await lex.get("/v1/nothing-here", key="unknown")).status == 403
    assert (await lex.get("/v1/nothing-here", key=None)).body == {
        "message": "Missing Authentication Token"
    }


async def test_profile_belongs_to_the_keys_organization(lex: Lexware) -> None:
    reply = await lex.get("/v1/profile")
    assert reply.status == 200
    assert reply.body["organizationId"] == str(lex.fake.add_api_key(KEY))
    assert set(reply.body) == {
        "organizationId",
        "companyName",
        "created",
        "connectionId",
        "features",
        "subscriptionStatus",
        "taxType",
        "smallBusiness",
        "distanceSalesPrinciple",
    }
    assert set(reply.body["created"]) == {"userId", "userName", "userEmail", "date"}
    assert DATE_TIME.match(reply.body["created"]["date"])
    other = await lex.get("/v1/profile", key=OTHER_KEY)
    assert other.body["organizationId"] != reply.body["organizationId"]


async def test_each_key_sees_only_its_own_organization(lex: Lexware) -> None:
    contact = lex.fake.seed_contact(KEY, company("Nur Org A"))
    lex.fake.seed_voucher(KEY, {"contactId": contact["id"]})
    assert (await lex.get(f"/v1/contacts/{contact['id']}", key=OTHER_KEY)).status == 404
    assert await names(lex, key=OTHER_KEY) == []
    vouchers = await lex.get(
        "/v1/voucherlist", key=OTHER_KEY, params={"voucherType": "any", "voucherStatus": "any"}
    )
    assert vouchers.body["totalElements"] == 0
    assert await names(lex) == ["Nur Org A"]


# --- rate limit -----------------------------------------------------------------------------------


async def test_third_quick_request_is_429_without_side_effects_then_passes_again(
    limited: Lexware,
) -> None:
    assert (await limited.get("/v1/profile")).status == 200
    assert (await limited.get("/v1/contacts")).status == 200
    throttled = await limited.post("/v1/contacts", company("Darf nicht entstehen"))
    assert (throttled.status, throttled.body) == (429, {"message": "Too Many Requests"})
    assert throttled.headers["Retry-After"] == "1"
    assert limited.fake.organization(KEY).contacts == {}
    # another key has its own bucket
    assert (await limited.get("/v1/profile", key=OTHER_KEY)).status == 200
    await asyncio.sleep(0.6)  # 1.2 tokens refilled
    assert (await limited.get("/v1/profile")).status == 200
    assert [r.status for r in limited.fake.requests if r.api_key == KEY] == [200, 200, 429, 200]


async def test_rate_limit_switches_and_fake_clock() -> None:
    now = [100.0]
    fake = FakeLexware(clock=lambda: now[0], retry_after_header=False)
    async for lex in start(fake):
        statuses = [(await lex.get("/v1/profile")).status for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert "Retry-After" not in (await lex.get("/v1/profile")).headers
        now[0] += 0.5  # one token
        assert [(await lex.get("/v1/profile")).status for _ in range(2)] == [200, 429]
        fake.rate_limit_enabled = False
        assert [(await lex.get("/v1/profile")).status for _ in range(4)] == [200] * 4
        # unknown keys are never throttled: they get 401 every time
        assert {(await lex.get("/v1/profile", key="nope")).status for _ in range(4)} == {401}


# --- create ---------------------------------------------------------------------------------------


async def test_create_assigns_server_fields_and_ignores_read_only_input(lex: Lexware) -> None:
    payload = company("Müller & Söhne", roles={"customer": {"number": 4711}}, archived=True, id="x")
    reply = await lex.post("/v1/contacts", payload)
    assert reply.status == 200
    assert set(reply.body) == {"id", "resourceUri", "createdDate", "updatedDate", "version"}
    assert reply.body["version"] == 1
    assert reply.body["resourceUri"] == f"{lex.url}/v1/contacts/{reply.body['id']}"
    assert DATE_TIME.match(reply.body["createdDate"]) and DATE_TIME.match(reply.body["updatedDate"])
    stored = (await lex.get(f"/v1/contacts/{reply.body['id']}")).body
    assert stored["roles"] == {"customer": {"number": 10000}}
    assert stored["archived"] is False
    assert stored["organizationId"] == str(lex.fake.add_api_key(KEY))
    assert stored["company"]["name"] == "Müller &amp; Söhne"  # stored HTML-escaped
    assert "person" not in stored  # absent sub-objects are omitted
    second = await lex.post("/v1/contacts", {**person(), "roles": {"customer": {}, "vendor": {}}})
    roles = (await lex.get(f"/v1/contacts/{second.body['id']}")).body["roles"]
    assert roles == {"customer": {"number": 10001}, "vendor": {"number": 70000}}


TOO_LONG = "x" * 26


@pytest.mark.parametrize(
    ("payload", "source"),
    [
        (company(version=1), "version"),
        ({k: v for k, v in company().items() if k != "version"}, "version"),
        (company(roles={}), "roles"),
        ({k: v for k, v in company().items() if k != "roles"}, "roles"),
        ({**company(), "person": {"lastName": "Both"}}, "person"),
        ({"version": 0, "roles": {"vendor": {}}}, "company"),
        (company(""), "company.name"),
        (
            {"version": 0, "roles": {"customer": {}}, "person": {"firstName": "Only"}},
            "person.lastName",
        ),
        (
            company(company={"name": "A", "contactPersons": [{"firstName": "No Last"}]}),
            "company.contactPersons[0].lastName",
        ),
        (
            company(
                company={"name": "A", "contactPersons": [{"lastName": "X"}, {"lastName": "Y"}]}
            ),
            "company.contactPersons",
        ),
        (
            company(
                company={"name": "A", "contactPersons": [{"lastName": "X", "salutation": TOO_LONG}]}
            ),
            "company.contactPersons[0].salutation",
        ),
        (person(person={"lastName": "X", "salutation": TOO_LONG}), "person.salutation"),
        (company(addresses={"billing": [{"city": "Berlin"}]}), "addresses.billing[0].countryCode"),
        (
            company(addresses={"shipping": [{"countryCode": "DE"}, {"countryCode": "AT"}]}),
            "addresses.shipping",
        ),
        (
            company(emailAddresses={"business": ["a@example.com", "b@example.com"]}),
            "emailAddresses.business",
        ),
        (company(phoneNumbers={"mobile": ["0170 1", "0170 2"]}), "phoneNumbers.mobile"),
        (
            company(xRechnung={"buyerReference": "04011000-1234512345-35"}),
            "xRechnung.vendorNumberAtCustomer",
        ),
    ],
)
async def test_create_validation_is_406_with_the_source_path(
    lex: Lexware, payload: dict[str, Any], source: str
) -> None:
    reply = await lex.post("/v1/contacts", payload)
    assert reply.status == 406
    assert reply.body == {"IssueList": [missing_entity(source)]}
    assert lex.fake.organization(KEY).contacts == {}


async def test_an_invalid_email_address_is_406_with_its_path_on_create_and_update(
    lex: Lexware,
) -> None:
    """A validation failure like the others (the contract: invalid e-mails are rejected, and
    validation failures are 406), not a malformed request (400)."""
    persons = [{"lastName": "X", "emailAddress": "x@beispiel"}]
    payload = company(
        company={"name": "A", "contactPersons": persons},
        emailAddresses={"business": ["anna..schmidt@example.de"], "other": ["ok@example.de"]},
    )
    reply = await lex.post("/v1/contacts", payload)
    assert reply.status == 406
    assert reply.body == {
        "IssueList": [
            missing_entity("emailAddresses.business[0]"),
            missing_entity("company.contactPersons[0].emailAddress"),
        ]
    }
    assert lex.fake.organization(KEY).contacts == {}
    valid = company(emailAddresses={"business": ["o'brien+crm@bü-ro.example.de"]})
    created = await lex.post("/v1/contacts", valid)
    assert created.status == 200
    path = f"/v1/contacts/{created.body['id']}"
    stored = (await lex.get(path)).body
    refused = await lex.put(path, {**stored, "emailAddresses": {"private": [".a@example.de"]}})
    assert refused.status == 406
    assert refused.body == {"IssueList": [missing_entity("emailAddresses.private[0]")]}
    assert (await lex.get(path)).body == stored


async def test_a_salutation_of_25_and_xrechnung_with_both_fields_are_valid(lex: Lexware) -> None:
    payload = person(
        person={"lastName": "X", "salutation": "x" * 25},
        xRechnung={"buyerReference": "04011000-1", "vendorNumberAtCustomer": "70123"},
    )
    assert (await lex.post("/v1/contacts", payload)).status == 200


async def test_malformed_json_is_400_and_wrong_content_type_is_415(lex: Lexware) -> None:
    headers = {"Content-Type": "application/json"}
    bad_json = await lex.call("POST", "/v1/contacts", data=b'{"version": 0,', headers=headers)
    assert bad_json.status == 400
    assert bad_json.body["IssueList"][0]["i18nKey"] == "bad_request_error"
    assert bad_json.body["IssueList"][0]["type"] == "bad_request_error"
    no_type = await lex.call(
        "POST", "/v1/contacts", data=b'{"version": 0}', skip_auto_headers=["Content-Type"]
    )
    assert no_type.status == 415
    text = await lex.call(
        "POST", "/v1/contacts", data=b"{}", headers={"Content-Type": "text/plain"}
    )
    assert text.status == 415
    contact = lex.fake.seed_contact(KEY, company())
    put = await lex.call(
        "PUT", f"/v1/contacts/{contact['id']}", data=b"{}", headers={"Content-Type": "text/plain"}
    )
    assert put.status == 415
    assert len(lex.fake.organization(KEY).contacts) == 1


# --- update ---------------------------------------------------------------------------------------


async def test_stale_version_is_409_and_leaves_the_contact_unchanged(lex: Lexware) -> None:
    created = await lex.post("/v1/contacts", company("Alt GmbH", note="v1"))
    contact_id = created.body["id"]
    read = (await lex.get(f"/v1/contacts/{contact_id}")).body
    edited = lex.fake.edit_in_web_app(KEY, contact_id, {"note": "im Web geändert"})
    assert edited["version"] == read["version"] + 1
    stale = await lex.put(f"/v1/contacts/{contact_id}", {**read, "note": "vom CRM"})
    assert stale.status == 409
    assert lex.fake.contact(KEY, contact_id) == edited
    fresh = (await lex.get(f"/v1/contacts/{contact_id}")).body
    update = {k: v for k, v in fresh.items() if k != "note"}
    update["company"] = {"name": "Neu GmbH"}
    ok = await lex.put(f"/v1/contacts/{contact_id}", update)
    assert ok.status == 200
    assert ok.body["version"] == fresh["version"] + 1 == 3
    assert set(ok.body) == {"id", "resourceUri", "createdDate", "updatedDate", "version"}
    after = (await lex.get(f"/v1/contacts/{contact_id}")).body
    assert after["company"]["name"] == "Neu GmbH"
    assert "note" not in after  # PUT replaces: an omitted field is removed
    assert after["roles"] == {"customer": {"number": 10000}}


async def test_put_without_version_is_406_and_unknown_id_is_404(lex: Lexware) -> None:
    contact = lex.fake.seed_contact(KEY, company())
    body = {k: v for k, v in contact.items() if k != "version"}
    reply = await lex.put(f"/v1/contacts/{contact['id']}", body)
    assert (reply.status, reply.body) == (406, {"IssueList": [missing_entity("version")]})
    assert (await lex.put(f"/v1/contacts/{uuid.uuid4()}", contact)).status == 404
    assert (await lex.get(f"/v1/contacts/{uuid.uuid4()}")).status == 404


async def test_put_of_a_web_app_contact_with_two_emails_is_406_until_one_is_removed(
    lex: Lexware,
) -> None:
    contact_id = (await lex.post("/v1/contacts", company())).body["id"]
    lex.fake.edit_in_web_app(
        KEY, contact_id, {"emailAddresses": {"business": ["a@firma.de", "b@firma.de"]}}
    )
    read = (await lex.get(f"/v1/contacts/{contact_id}")).body
    assert read["emailAddresses"]["business"] == ["a@firma.de", "b@firma.de"]
    rejected = await lex.put(f"/v1/contacts/{contact_id}", read)
    assert (rejected.status, rejected.body) == (
        406,
        {"IssueList": [missing_entity("emailAddresses.business")]},
    )
    read["emailAddresses"]["business"] = ["a@firma.de"]
    assert (await lex.put(f"/v1/contacts/{contact_id}", read)).status == 200


async def test_archived_stays_archived_and_is_listed(lex: Lexware) -> None:
    contact = lex.fake.seed_contact(KEY, company("Archiviert AG"))
    lex.fake.archive(KEY, contact["id"])
    read = (await lex.get(f"/v1/contacts/{contact['id']}")).body
    assert read["archived"] is True and read["version"] == 2
    assert (
        await lex.put(f"/v1/contacts/{contact['id']}", {**read, "archived": False})
    ).status == 200
    assert lex.fake.contact(KEY, contact["id"])["archived"] is True  # type: ignore[index]
    assert await names(lex) == ["Archiviert AG"]


# --- list filters and paging ----------------------------------------------------------------------


async def test_name_and_email_filters_need_three_characters(lex: Lexware) -> None:
    for params in ({"name": "ab"}, {"email": "a@"}):
        reply = await lex.get("/v1/contacts", params=params)
        assert reply.status == 400
        [problem] = reply.body["IssueList"]
        assert problem["i18nKey"] == problem["type"] == "bad_request_error"
        assert problem["source"].startswith("size must be between 3 and")
    assert (await lex.get("/v1/contacts", params={"name": "abc"})).status == 200


async def test_name_filter_compares_html_escaped_text(lex: Lexware) -> None:
    lex.fake.seed_contact(KEY, company("Müller & Söhne GmbH"))
    lex.fake.seed_contact(KEY, company("Müllerei KG"))
    assert await names(lex, name="Müller & Söhne") == []
    assert await names(lex, name="Müller &amp; Söhne") == ["Müller &amp; Söhne GmbH"]
    assert await names(lex, name="müller") == [
        "Müller &amp; Söhne GmbH",
        "Müllerei KG",
    ]  # case-insensitive contains


async def test_like_wildcards_and_escapes(lex: Lexware) -> None:
    lex.fake.seed_contact(
        KEY, company("John", emailAddresses={"business": ["john.doe@example.com"]})
    )
    lex.fake.seed_contact(KEY, company("Literal", emailAddresses={"other": ["n_d_e@example.com"]}))
    lex.fake.seed_contact(KEY, company("Klaus", emailAddresses={"private": ["klaus@hansbernd.de"]}))
    assert await names(lex, email="n_d_e@example.com") == ["John", "Literal"]
    assert await names(lex, email=r"n\_d\_e@example.com") == ["Literal"]
    assert await names(lex, email="klaus@hans") == ["Klaus"]
    assert await names(lex, name="K%s") == ["Klaus"]
    lex.fake.seed_contact(KEY, person("Mustermann", "Max"))
    assert await names(lex, name="Max Muster") == ["Mustermann"]  # "firstName lastName"


async def test_number_customer_and_vendor_filters(lex: Lexware) -> None:
    lex.fake.seed_contact(KEY, company("Kunde", roles={"customer": {}}))
    lex.fake.seed_contact(KEY, company("Lieferant", roles={"vendor": {}}))
    lex.fake.seed_contact(KEY, company("Beides", roles={"customer": {}, "vendor": {}}))
    assert await names(lex, number="10000") == ["Kunde"]
    assert await names(lex, number="70001") == ["Beides"]
    assert await names(lex, customer="true") == ["Beides", "Kunde"]
    assert await names(lex, customer="false") == ["Lieferant"]
    assert await names(lex, vendor="true", customer="true") == ["Beides"]
    assert (await lex.get("/v1/contacts", params={"number": "x"})).status == 400


async def test_paging_envelope_across_pages(lex: Lexware) -> None:
    for index in reversed(range(30)):
        lex.fake.seed_contact(KEY, company(f"Firma {index:02d}"))
    seen: list[str] = []
    for page, count in [(0, 12), (1, 12), (2, 6)]:
        body = (await lex.get("/v1/contacts", params={"page": page, "size": 12})).body
        assert set(body) == ENVELOPE_KEYS
        assert (body["number"], body["size"], body["numberOfElements"]) == (page, 12, count)
        assert (body["totalElements"], body["totalPages"]) == (30, 3)
        assert (body["first"], body["last"]) == (page == 0, page == 2)
        assert body["sort"] == [
            {
                "direction": "ASC",
                "property": "name",
                "ignoreCase": False,
                "nullHandling": "NATIVE",
                "ascending": True,
            }
        ]
        seen += [c["company"]["name"] for c in body["content"]]
    assert seen == [f"Firma {index:02d}" for index in range(30)]
    past = (await lex.get("/v1/contacts", params={"page": 5, "size": 12})).body
    assert (past["content"], past["last"], past["first"]) == ([], True, False)
    default = (await lex.get("/v1/contacts")).body
    assert (default["size"], default["numberOfElements"]) == (25, 25)
    assert (await lex.get("/v1/contacts", params={"size": 250})).status == 200
    assert (await lex.get("/v1/contacts", params={"size": 251})).status == 400


async def test_empty_result_envelope(lex: Lexware) -> None:
    body = (await lex.get("/v1/contacts", params={"name": "gibt es nicht"})).body
    assert {k: body[k] for k in ("content", "totalElements", "totalPages", "first", "last")} == {
        "content": [],
        "totalElements": 0,
        "totalPages": 0,
        "first": True,
        "last": True,
    }


# --- voucherlist ----------------------------------------------------------------------------------


async def test_voucherlist_requires_type_and_status_in_the_regular_error_format(
    lex: Lexware,
) -> None:
    for params in (
        {"voucherStatus": "open"},
        {"voucherType": "invoice"},
        {"voucherType": "invoice", "voucherStatus": "overdue,open"},
        {"voucherType": "bogus", "voucherStatus": "any"},
    ):
        reply = await lex.get("/v1/voucherlist", params=params)
        assert reply.status == 400, params
        assert set(reply.body) == REGULAR_KEYS
        assert (reply.body["status"], reply.body["error"], reply.body["path"]) == (
            400,
            "Bad Request",
            "/v1/voucherlist",
        )
        assert DATE_TIME.match(reply.body["timestamp"])
    ok = await lex.get("/v1/voucherlist", params={"voucherType": "any", "voucherStatus": "overdue"})
    assert ok.status == 200


async def test_voucherlist_filters_by_type_status_and_contact(lex: Lexware) -> None:
    customer = lex.fake.seed_contact(KEY, company("Kunde"))
    other = lex.fake.seed_contact(KEY, company("Andere"))
    invoice = lex.fake.seed_voucher(
        KEY, {"contactId": customer["id"], "voucherStatus": "open", "totalAmount": 119}
    )
    lex.fake.seed_voucher(
        KEY, {"contactId": customer["id"], "voucherType": "quotation", "voucherStatus": "accepted"}
    )
    lex.fake.seed_voucher(KEY, {"contactId": other["id"], "voucherStatus": "paid"})
    collective = lex.fake.seed_voucher(
        KEY, {"voucherType": "salesinvoice", "voucherStatus": "paid"}
    )
    assert collective["contactId"] is None

    async def ids(**params: str) -> set[str]:
        reply = await lex.get("/v1/voucherlist", params=params)
        assert reply.status == 200, reply.body
        return {v["id"] for v in reply.body["content"]}

    assert await ids(voucherType="invoice", voucherStatus="open", contactId=customer["id"]) == {
        invoice["id"]
    }
    assert (
        len(
            await ids(
                voucherType="invoice,quotation", voucherStatus="any", contactId=customer["id"]
            )
        )
        == 2
    )
    assert len(await ids(voucherType="any", voucherStatus="paid")) == 2
    item = (
        await lex.get("/v1/voucherlist", params={"voucherType": "invoice", "voucherStatus": "open"})
    ).body["content"][0]
    assert set(item) == {
        "id",
        "voucherType",
        "voucherStatus",
        "voucherNumber",
        "voucherDate",
        "createdDate",
        "updatedDate",
        "dueDate",
        "contactId",
        "contactName",
        "totalAmount",
        "openAmount",
        "currency",
        "archived",
    }
    assert (item["contactName"], item["totalAmount"], item["openAmount"], item["currency"]) == (
        "Kunde",
        119.0,
        119.0,
        "EUR",
    )
    assert all(
        DATE_TIME.match(item[k]) for k in ("voucherDate", "createdDate", "updatedDate", "dueDate")
    )


async def test_voucherlist_overdue_is_open_past_its_due_date(lex: Lexware) -> None:
    late = lex.fake.seed_voucher(
        KEY, {"voucherStatus": "open", "voucherDate": "2020-01-01", "dueDate": "2020-01-15"}
    )
    lex.fake.seed_voucher(KEY, {"voucherStatus": "open", "dueDate": "2999-01-01"})
    reply = await lex.get(
        "/v1/voucherlist", params={"voucherType": "invoice", "voucherStatus": "overdue"}
    )
    assert [v["id"] for v in reply.body["content"]] == [late["id"]]


async def test_voucherlist_updated_date_from_covers_whole_berlin_days(lex: Lexware) -> None:
    before = lex.fake.seed_voucher(KEY, {"updatedDate": "2024-03-09T23:30:00+01:00"})
    utc_evening = lex.fake.seed_voucher(
        KEY, {"updatedDate": "2024-03-09T23:30:00+00:00"}
    )  # 00:30 in Berlin
    later = lex.fake.seed_voucher(KEY, {"updatedDate": "2024-03-12T12:00:00+01:00"})
    params = {"voucherType": "any", "voucherStatus": "any", "updatedDateFrom": "2024-03-10"}
    body = (await lex.get("/v1/voucherlist", params=params)).body
    assert {v["id"] for v in body["content"]} == {utc_evening["id"], later["id"]}
    body = (await lex.get("/v1/voucherlist", params={**params, "updatedDateTo": "2024-03-10"})).body
    assert {v["id"] for v in body["content"]} == {utc_evening["id"]}
    assert before["updatedDate"] == "2024-03-09T23:30:00.000+01:00"
    bad = await lex.get("/v1/voucherlist", params={**params, "updatedDateFrom": "10.03.2024"})
    assert bad.status == 400


async def test_voucherlist_paging_and_sort(lex: Lexware) -> None:
    for day in range(1, 31):
        lex.fake.seed_voucher(
            KEY,
            {"voucherDate": f"2024-04-{day:02d}T10:00:00", "voucherNumber": f"RE{31 - day:04d}"},
        )
    params = {"voucherType": "invoice", "voucherStatus": "open", "size": "10"}
    dates: list[str] = []
    for page in range(3):
        body = (await lex.get("/v1/voucherlist", params={**params, "page": str(page)})).body
        assert set(body) == ENVELOPE_KEYS
        assert (body["totalElements"], body["totalPages"], body["numberOfElements"]) == (30, 3, 10)
        assert body["last"] is (page == 2)
        assert (
            body["sort"][0]["property"] == "voucherDate" and body["sort"][0]["direction"] == "DESC"
        )
        dates += [v["voucherDate"] for v in body["content"]]
    assert dates == sorted(dates, reverse=True) and len(set(dates)) == 30
    by_number = (
        await lex.get("/v1/voucherlist", params={**params, "sort": "voucherNumber,ASC"})
    ).body
    assert [v["voucherNumber"] for v in by_number["content"]] == [
        f"RE{n:04d}" for n in range(1, 11)
    ]
    assert (await lex.get("/v1/voucherlist", params={**params, "size": "251"})).status == 400
    assert (
        await lex.get("/v1/voucherlist", params={**params, "sort": "totalAmount"})
    ).status == 400


# --- voucher details ------------------------------------------------------------------------------


async def test_invoice_by_id_and_404(lex: Lexware) -> None:
    customer = lex.fake.seed_contact(KEY, company("Kunde"))
    invoice = lex.fake.seed_voucher(
        KEY, {"contactId": customer["id"], "totalAmount": 119.0, "title": "Rechnung Juni"}
    )
    quotation = lex.fake.seed_voucher(KEY, {"voucherType": "quotation", "voucherStatus": "open"})
    reply = await lex.get(f"/v1/invoices/{invoice['id']}")
    assert reply.status == 200
    assert (reply.body["id"], reply.body["voucherNumber"], reply.body["voucherStatus"]) == (
        invoice["id"],
        invoice["voucherNumber"],
        "open",
    )
    assert reply.body["address"]["contactId"] == customer["id"]
    assert reply.body["totalPrice"]["totalGrossAmount"] == 119.0
    assert reply.body["title"] == "Rechnung Juni"  # seeded detail fields show up
    assert (await lex.get(f"/v1/quotations/{quotation['id']}")).status == 200
    for path in (f"/v1/invoices/{uuid.uuid4()}", f"/v1/invoices/{quotation['id']}"):
        missing = await lex.get(path)
        assert missing.status == 404
        assert set(missing.body) == REGULAR_KEYS and missing.body["path"] == path


# --- injected failures ----------------------------------------------------------------------------


async def test_fail_next_503_answers_the_next_requests_then_recovers(lex: Lexware) -> None:
    lex.fake.fail_next(503, count=2)
    first, second = await lex.get("/v1/contacts"), await lex.post("/v1/contacts", company())
    assert (first.status, second.status) == (503, 503)
    assert lex.fake.organization(KEY).contacts == {}  # without after_write nothing is carried out
    assert (await lex.get("/v1/contacts")).status == 200
    lex.fake.fail_next(500)
    assert (await lex.get("/v1/contacts")).body == {"message": None}


async def test_fail_next_400_answers_in_the_endpoints_error_format(lex: Lexware) -> None:
    """A request Lexware takes for malformed ("Error Codes"): the legacy `bad_request_error` of the
    contacts endpoints, the regular body of the others."""
    lex.fake.fail_next(400, count=2)
    contacts = await lex.post("/v1/contacts", company())
    params = {"voucherType": "any", "voucherStatus": "any"}
    vouchers = await lex.get("/v1/voucherlist", params=params)
    assert (contacts.status, vouchers.status) == (400, 400)
    assert contacts.body == {
        "IssueList": [
            {
                "i18nKey": "bad_request_error",
                "source": None,
                "type": "bad_request_error",
                "additionalData": None,
                "args": None,
            }
        ]
    }
    assert (vouchers.body["status"], vouchers.body["message"]) == (400, "Bad Request")
    assert vouchers.body["path"] == "/v1/voucherlist"
    assert lex.fake.organization(KEY).contacts == {}


async def test_fail_next_504_after_write_creates_the_contact(lex: Lexware) -> None:
    lex.fake.fail_next(504, after_write=True)
    reply = await lex.post("/v1/contacts", company("Trotzdem angelegt"))
    assert (reply.status, reply.body) == (504, {"message": "Endpoint request timed out"})
    assert await names(lex) == ["Trotzdem angelegt"]


async def test_requests_are_recorded_with_their_status(lex: Lexware) -> None:
    await lex.get("/v1/contacts", params={"name": "abc"})
    await lex.get("/v1/profile", key="nope")
    await lex.get("/_fake/requests")  # control calls are not recorded
    recorded = lex.fake.requests
    assert [(r.method, r.path, r.api_key, r.status) for r in recorded] == [
        ("GET", "/v1/contacts", KEY, 200),
        ("GET", "/v1/profile", "nope", 401),
    ]
    assert recorded[0].at <= recorded[1].at


# --- control endpoints ----------------------------------------------------------------------------


async def test_control_endpoints_seed_and_edit(lex: Lexware) -> None:
    seeded = await lex.post(
        f"/_fake/contacts/{KEY}",
        {"roles": {"customer": {}}, "company": {"name": "Per HTTP"}},
        key=None,
    )
    assert seeded.status == 200 and seeded.body["version"] == 1
    contact_id = seeded.body["id"]
    edited = await lex.post(
        f"/_fake/contacts/{KEY}/{contact_id}/edit", {"note": "geändert"}, key=None
    )
    assert (edited.body["version"], edited.body["note"]) == (2, "geändert")
    voucher = await lex.post(
        f"/_fake/vouchers/{KEY}", {"contactId": contact_id, "voucherDate": "2024-05-01"}, key=None
    )
    assert voucher.status == 200 and voucher.body["contactName"] == "Per HTTP"
    named = await lex.post(
        f"/_fake/vouchers/{KEY}", {"contactName": "A & B", "voucherNumber": "R&1"}, key=None
    )
    assert (named.body["contactName"], named.body["voucherNumber"]) == ("A &amp; B", "R&amp;1")
    listed = await lex.get(
        "/v1/voucherlist",
        params={"voucherType": "any", "voucherStatus": "any", "contactId": contact_id},
    )
    assert [v["id"] for v in listed.body["content"]] == [voucher.body["id"]]
    assert (await lex.post("/_fake/contacts/unknown-key", {}, key=None)).status == 404
    assert (
        await lex.post(f"/_fake/contacts/{KEY}/{uuid.uuid4()}/edit", {}, key=None)
    ).status == 404


async def test_control_endpoints_steer_failures_rate_limit_log_and_reset(lex: Lexware) -> None:
    assert (
        await lex.post("/_fake/fail", {"status": 503, "count": 1, "afterWrite": False}, key=None)
    ).status == 200
    assert (await lex.get("/v1/profile")).status == 503
    assert (await lex.post("/_fake/fail", {"status": "x"}, key=None)).status == 400
    limit = await lex.post("/_fake/rate-limit", {"enabled": True, "retryAfter": False}, key=None)
    assert limit.body == {"enabled": True, "retryAfter": False}
    statuses = [(await lex.get("/v1/profile")).status for _ in range(3)]
    assert statuses == [200, 200, 429]
    for _ in range(4):  # control endpoints are neither throttled nor recorded
        log = await lex.get("/_fake/requests", key=None)
        assert log.status == 200
    assert [(r["method"], r["path"], r["status"]) for r in log.body["requests"]] == [
        ("GET", "/v1/profile", 503),
        ("GET", "/v1/profile", 200),
        ("GET", "/v1/profile", 200),
        ("GET", "/v1/profile", 429),
    ]
    assert all({"at", "method", "path", "status"} <= set(r) for r in log.body["requests"])
    await lex.post("/_fake/rate-limit", {"enabled": False}, key=None)
    lex.fake.seed_contact(KEY, company("Weg nach Reset"))
    assert (await lex.post("/_fake/reset", key=None)).status == 200
    assert lex.fake.requests == []
    assert await names(lex) == []  # the key still works, the data is gone


async def test_delay_next_answers_late_and_is_steered_over_http(lex: Lexware) -> None:
    delayed = await lex.post("/_fake/delay", {"seconds": 0.2, "count": 2}, key=None)
    assert delayed.body == {"seconds": 0.2, "count": 2}
    assert [(await lex.get("/v1/profile")).status for _ in range(3)] == [200, 200, 200]
    assert (await lex.post("/_fake/delay", {"seconds": 31}, key=None)).status == 400
    assert (await lex.post("/_fake/delay", {"seconds": "1"}, key=None)).status == 400
    lex.fake.delay_next(5)
    assert (await lex.post("/_fake/reset", key=None)).status == 200
    assert lex.fake.take_delay() == 0.0  # a reset drops pending delays


async def test_edit_after_read_changes_the_contact_right_after_the_next_get(lex: Lexware) -> None:
    seeded = lex.fake.seed_contact(KEY, company("Vorher"))
    path = f"/_fake/contacts/{KEY}/{seeded['id']}/edit-after-read"
    pending = await lex.post(path, {"company": {"name": "Nachher & Co"}}, key=None)
    assert pending.status == 200
    read = (await lex.get(f"/v1/contacts/{seeded['id']}")).body
    assert (read["company"]["name"], read["version"]) == ("Vorher", 1)  # answered first
    stale = await lex.put(f"/v1/contacts/{seeded['id']}", {**read, "note": "zu spät"})
    assert stale.status == 409
    again = (await lex.get(f"/v1/contacts/{seeded['id']}")).body
    assert (again["company"]["name"], again["version"]) == ("Nachher &amp; Co", 2)
    unknown = f"/_fake/contacts/{KEY}/{uuid.uuid4()}/edit-after-read"
    assert (await lex.post(unknown, {}, key=None)).status == 404
