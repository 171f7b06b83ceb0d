"""Lexware contacts from the CRM, against the fake Lexware server over HTTP."""

from __future__ import annotations

from typing import Any

from tests.conftest import error_codes, error_fields
from tests.lexware_fixtures import ACME, PERSON, Lexware
from tests.test_events import events

SEARCH = """query($name: String, $email: String, $number: Int, $customer: Boolean) {
  lexwareContacts(name: $name, email: $email, number: $number, customer: $customer) {
    totalElements items { id name kind customerNumber email webAppUrl linkedCompany { id } linkedContact { id } } } }"""
COMPANY_FIELDS = "id name vatId taxId lexwareContactId billingAddress { street zip city countryCode } emails { email type isPrimary } phones { phone type isPrimary }"
IMPORT = (
    f"mutation($l: ID!) {{ importCompanyFromLexware(lexwareContactId: $l) {{ {COMPANY_FIELDS} }} }}"
)
PUSH = f"mutation($id: ID!) {{ pushCompanyToLexware(id: $id) {{ {COMPANY_FIELDS} }} }}"
SYNC = f"mutation($id: ID!) {{ syncCompanyFromLexware(id: $id) {{ {COMPANY_FIELDS} }} }}"


async def company(lx: Lexware, **fields: Any) -> dict[str, Any]:
    data = await lx.api.data(
        f"mutation($i: CreateCompanyInput!) {{ createCompany(input: $i) {{ {COMPANY_FIELDS} }} }}",
        {"i": {"name": "Muster GmbH", **fields}},
    )
    created: dict[str, Any] = data["createCompany"]
    return created


async def test_search_shows_matches_and_what_they_are_linked_to(lexware: Lexware) -> None:
    acme = lexware.seed(ACME)
    lexware.seed(PERSON)
    found = await lexware.api.data(SEARCH, {"name": "acme & söhne"})
    [item] = found["lexwareContacts"]["items"]
    assert item["name"] == "Acme & Söhne GmbH"
    assert (
        item["kind"] == "COMPANY" and item["customerNumber"] == acme["roles"]["customer"]["number"]
    )
    assert item["linkedCompany"] is None
    assert item["webAppUrl"].endswith(f"/permalink/contacts/view/{acme['id']}")
    imported = await lexware.api.data(IMPORT, {"l": acme["id"]})
    found = await lexware.api.data(SEARCH, {"email": "acme.de"})
    assert found["lexwareContacts"]["items"][0]["linkedCompany"] == {
        "id": imported["importCompanyFromLexware"]["id"]
    }
    short = await lexware.api(SEARCH, {"name": "ac"})
    assert error_codes(short) == ["BAD_USER_INPUT"] and error_fields(short) == {"name"}


async def test_import_creates_the_company_once(lexware: Lexware) -> None:
    acme = lexware.seed(ACME)
    first = (await lexware.api.data(IMPORT, {"l": acme["id"]}))["importCompanyFromLexware"]
    assert first["name"] == "Acme & Söhne GmbH"
    assert first["vatId"] == "DE123456788" and first["taxId"] == "12/345/67890"
    assert first["billingAddress"] == {
        "street": "Hauptstr. 5",
        "zip": "70173",
        "city": "Stuttgart",
        "countryCode": "DE",
    }
    assert first["emails"] == [{"email": "info@acme.de", "type": "WORK", "isPrimary": True}]
    assert first["phones"] == [{"phone": "+49 711 123456", "type": "OFFICE", "isPrimary": True}]
    again = (await lexware.api.data(IMPORT, {"l": acme["id"]}))["importCompanyFromLexware"]
    assert again["id"] == first["id"]
    listed = await lexware.api.data("{ companies { totalCount } }")
    assert listed["companies"]["totalCount"] == 1
    types = [e["type"] for e in await events(lexware.api, entityId=first["id"])]
    assert types == ["crm.company.created", "crm.company.lexware_linked"]


async def test_a_person_imports_as_a_contact_not_as_a_company(lexware: Lexware) -> None:
    person = lexware.seed(PERSON)
    refused = await lexware.api(IMPORT, {"l": person["id"]})
    assert error_codes(refused) == ["BAD_USER_INPUT"] and error_fields(refused) == {
        "lexwareContactId"
    }
    contact = await lexware.api.data(
        "mutation($l: ID!) { importContactFromLexware(lexwareContactId: $l) { firstName lastName salutation source emails { email type } } }",
        {"l": person["id"]},
    )
    assert contact["importContactFromLexware"] == {
        "firstName": "Inge",
        "lastName": "Musterfrau",
        "salutation": "Frau",
        "source": "LEXWARE_IMPORT",
        "emails": [{"email": "inge@example.de", "type": "PERSONAL"}],
    }


LINK_COMPANY = "mutation($c: ID!, $l: ID!) { linkCompanyToLexware(companyId: $c, lexwareContactId: $l) { id } }"
LINK_CONTACT = "mutation($c: ID!, $l: ID!) { linkContactToLexware(contactId: $c, lexwareContactId: $l) { id } }"
IMPORT_CONTACT = "mutation($l: ID!) { importContactFromLexware(lexwareContactId: $l) { id } }"


def message_of(result: dict[str, Any]) -> tuple[str, list[dict[str, str]]]:
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    return error["message"], error["extensions"]["fields"]


async def test_the_wrong_kind_of_lexware_contact_says_what_it_is_and_where_it_goes(
    lexware: Lexware,
) -> None:
    acme, inge = lexware.seed(ACME), lexware.seed(PERSON)
    crm = await company(lexware)
    person = await lexware.api.data(
        'mutation { createContact(input: {lastName: "Muster"}) { id } }'
    )
    said = f"Lexware contact {inge['id']} is a person; link it to a contact, not to a company."
    refused = await lexware.api(LINK_COMPANY, {"c": crm["id"], "l": inge["id"]})
    assert message_of(refused) == (said, [{"field": "lexwareContactId", "message": said}])
    said = f"Lexware contact {acme['id']} is a company; link it to a company, not to a contact."
    refused = await lexware.api(LINK_CONTACT, {"c": person["createContact"]["id"], "l": acme["id"]})
    assert message_of(refused)[0] == said
    said = f"Lexware contact {inge['id']} is a person; import it as a contact, not as a company."
    assert message_of(await lexware.api(IMPORT, {"l": inge["id"]}))[0] == said
    said = f"Lexware contact {acme['id']} is a company; import it as a company, not as a contact."
    assert message_of(await lexware.api(IMPORT_CONTACT, {"l": acme["id"]}))[0] == said


async def test_a_lexware_contact_that_changed_kind_is_neither_synced_nor_pushed(
    lexware: Lexware,
) -> None:
    acme = lexware.seed(ACME)
    crm = (await lexware.api.data(IMPORT, {"l": acme["id"]}))["importCompanyFromLexware"]
    person = {"company": None, "person": {"lastName": "Umgewandelt"}}
    lexware.fake.edit_in_web_app(lexware.key, acme["id"], person)  # now a person in Lexware
    said = f"Lexware contact {acme['id']} is a person; a company takes data only from a company contact."
    assert message_of(await lexware.api(SYNC, {"id": crm["id"]})) == (
        said,
        [{"field": "id", "message": said},
    ])  # fmt: skip
    await lexware.api.data(
        'mutation($id: ID!) { updateCompany(id: $id, input: {name: "Acme AG"}) { id } }',
        {"id": crm["id"]},
    )
    before = lexware.fake.contact(lexware.key, acme["id"])
    refused = await lexware.api(PUSH, {"id": crm["id"]})  # before: made it a company again
    said = (
        f"Lexware contact {acme['id']} is a person now; a company is pushed only to a company "
        "contact. Unlink the company (its next push creates a company contact) or link it to one."
    )
    assert message_of(refused) == (said, [{"field": "id", "message": said}])
    assert not lexware.calls("PUT") and lexware.fake.contact(lexware.key, acme["id"]) == before


async def test_one_lexware_contact_links_to_one_record(lexware: Lexware) -> None:
    acme = lexware.seed(ACME)
    a, b = await company(lexware, name="A"), await company(lexware, name="B")
    link = "mutation($c: ID!, $l: ID!) { linkCompanyToLexware(companyId: $c, lexwareContactId: $l) { lexwareContactId } }"
    linked = await lexware.api.data(link, {"c": a["id"], "l": acme["id"]})
    assert linked["linkCompanyToLexware"]["lexwareContactId"] == acme["id"]
    taken = await lexware.api(link, {"c": b["id"], "l": acme["id"]})
    assert error_codes(taken) == ["CONFLICT"]
    unlink = "mutation($c: ID!) { unlinkCompanyFromLexware(companyId: $c) { lexwareContactId } }"
    assert (await lexware.api.data(unlink, {"c": a["id"]}))["unlinkCompanyFromLexware"] == {
        "lexwareContactId": None
    }
    assert (await lexware.api.data(link, {"c": b["id"], "l": acme["id"]}))["linkCompanyToLexware"]
    assert error_codes(await lexware.api(unlink, {"c": a["id"]})) == ["BAD_USER_INPUT"]
    unknown = await lexware.api(link, {"c": a["id"], "l": "00000000-0000-4000-8000-000000000000"})
    assert error_codes(unknown) == ["NOT_FOUND"]
    types = [e["type"] for e in await events(lexware.api, entityId=a["id"])]
    assert "crm.company.lexware_linked" in types and "crm.company.lexware_unlinked" in types


async def test_push_creates_a_customer_then_updates_it(lexware: Lexware) -> None:
    crm = await company(
        lexware,
        name="Neu & Co KG",
        vatId="DE811907980",
        billingAddress={"street": "Königstraße 12", "zip": "70173", "city": "Stuttgart"},
        emails=[{"email": "a@neu.de"}, {"email": "b@neu.de", "type": "WORK"}],
        phones=[{"phone": "+49 711 1234567"}],
    )
    pushed = (await lexware.api.data(PUSH, {"id": crm["id"]}))["pushCompanyToLexware"]
    stored = lexware.fake.contact(lexware.key, pushed["lexwareContactId"])
    assert stored is not None
    assert "customer" in stored["roles"]
    assert stored["company"]["vatRegistrationId"] == "DE811907980"
    assert stored["emailAddresses"] == {
        "business": ["a@neu.de"]
    }  # one per list; b stays in the CRM
    assert stored["addresses"]["billing"][0]["countryCode"] == "DE"
    await lexware.api.data(
        'mutation($id: ID!) { updateCompany(id: $id, input: {taxId: "99/999/99999"}) { id } }',
        {"id": crm["id"]},
    )
    await lexware.api.data(PUSH, {"id": crm["id"]})
    stored = lexware.fake.contact(lexware.key, pushed["lexwareContactId"])
    assert stored is not None and stored["company"]["taxNumber"] == "99/999/99999"
    assert stored["version"] == 2
    types = [e["type"] for e in await events(lexware.api, entityId=crm["id"])]
    assert types.count("crm.company.lexware_pushed") == 2


async def test_push_racing_an_edit_in_the_web_app_rereads_and_applies_again(
    lexware: Lexware,
) -> None:
    acme = lexware.seed(ACME)
    crm = (await lexware.api.data(IMPORT, {"l": acme["id"]}))["importCompanyFromLexware"]
    # Someone saves the contact in the web app between the push's read and its write.
    lexware.fake.edit_after_read(lexware.key, acme["id"], {"note": "im Web geändert"})
    await lexware.api.data(
        'mutation($id: ID!) { updateCompany(id: $id, input: {name: "Acme AG"}) { id } }',
        {"id": crm["id"]},
    )
    await lexware.api.data(PUSH, {"id": crm["id"]})
    stored = lexware.fake.contact(lexware.key, acme["id"])
    assert stored is not None
    assert stored["company"]["name"] == "Acme AG" and stored["note"] == "im Web geändert"
    puts = [r.status for r in lexware.calls("PUT")]
    assert puts == [409, 200]


async def test_a_web_app_contact_with_two_emails_is_reduced_to_one_on_push(
    lexware: Lexware,
) -> None:
    acme = lexware.seed(ACME)
    crm = (await lexware.api.data(IMPORT, {"l": acme["id"]}))["importCompanyFromLexware"]
    lexware.fake.edit_in_web_app(
        lexware.key, acme["id"], {"emailAddresses": {"business": ["info@acme.de", "x@acme.de"]}}
    )
    await lexware.api.data(PUSH, {"id": crm["id"]})  # nothing changed in the CRM: no write
    assert not lexware.calls("PUT")
    await lexware.api.data(
        'mutation($id: ID!) { updateCompany(id: $id, input: {name: "Acme AG"}) { id } }',
        {"id": crm["id"]},
    )
    await lexware.api.data(PUSH, {"id": crm["id"]})
    stored = lexware.fake.contact(lexware.key, acme["id"])
    assert stored is not None and stored["emailAddresses"]["business"] == ["info@acme.de"]
    assert stored["company"]["name"] == "Acme AG"


async def test_push_then_sync_gives_back_the_same_crm_data(lexware: Lexware) -> None:
    crm = await company(
        lexware,
        name="Rund & Trip GmbH",
        vatId="DE811907980",
        taxId="11/222/33333",
        billingAddress={"street": "Ring 1", "zip": "80331", "city": "München", "countryCode": "DE"},
        deliveryAddress={
            "street": "Lager 2",
            "zip": "85748",
            "city": "Garching",
            "countryCode": "DE",
        },
        emails=[{"email": "info@rund.de"}],
        phones=[{"phone": "+49 89 1234", "type": "MOBILE"}],
    )
    await lexware.api.data(PUSH, {"id": crm["id"]})
    synced = (await lexware.api.data(SYNC, {"id": crm["id"]}))["syncCompanyFromLexware"]
    assert {k: v for k, v in synced.items() if k != "lexwareContactId"} == {
        k: v for k, v in crm.items() if k != "lexwareContactId"
    }


async def test_sync_takes_lexware_changes_and_keeps_crm_extras(lexware: Lexware) -> None:
    acme = lexware.seed(ACME)
    crm = (await lexware.api.data(IMPORT, {"l": acme["id"]}))["importCompanyFromLexware"]
    await lexware.api.data(
        'mutation($id: ID!) { addCompanyEmail(companyId: $id, input: {email: "extra@acme.de"}) { email { email } } }',
        {"id": crm["id"]},
    )
    lexware.fake.edit_in_web_app(
        lexware.key,
        acme["id"],
        {"company": {"name": "Acme Neu GmbH"}, "emailAddresses": {"business": ["neu@acme.de"]}},
    )
    synced = (await lexware.api.data(SYNC, {"id": crm["id"]}))["syncCompanyFromLexware"]
    assert synced["name"] == "Acme Neu GmbH"
    assert {e["email"] for e in synced["emails"]} == {
        "info@acme.de",
        "extra@acme.de",
        "neu@acme.de",
    }
    stored = await events(
        lexware.api, entityId=crm["id"], types=["crm.company.updated", "crm.company.lexware_synced"]
    )
    assert [e["type"] for e in stored][-2:] == ["crm.company.updated", "crm.company.lexware_synced"]
    unlinked = await company(lexware)
    assert error_codes(await lexware.api(SYNC, {"id": unlinked["id"]})) == ["BAD_USER_INPUT"]


async def test_a_contact_pushes_as_a_person_and_syncs_back(lexware: Lexware) -> None:
    fields = "id salutation firstName lastName emails { email type isPrimary } phones { phone type isPrimary }"
    created = await lexware.api.data(
        f"mutation($i: CreateContactInput!) {{ createContact(input: $i) {{ {fields} }} }}",
        {
            "i": {
                "salutation": "Herr",
                "firstName": "Jörg",
                "lastName": "Müller",
                "emails": [{"email": "j@m.de", "type": "PERSONAL"}],
                "phones": [{"phone": "+49 171 5550000", "type": "MOBILE"}],
            }
        },
    )
    contact = created["createContact"]
    pushed = await lexware.api.data(
        "mutation($id: ID!) { pushContactToLexware(id: $id) { lexwareContactId } }",
        {"id": contact["id"]},
    )
    stored = lexware.fake.contact(lexware.key, pushed["pushContactToLexware"]["lexwareContactId"])
    assert stored is not None
    assert stored["person"] == {"salutation": "Herr", "firstName": "Jörg", "lastName": "Müller"}
    assert stored["emailAddresses"] == {"private": ["j@m.de"]}
    assert stored["phoneNumbers"] == {"mobile": ["+49 171 5550000"]}
    synced = await lexware.api.data(
        f"mutation($id: ID!) {{ syncContactFromLexware(id: $id) {{ {fields} }} }}",
        {"id": contact["id"]},
    )
    assert synced["syncContactFromLexware"] == contact
