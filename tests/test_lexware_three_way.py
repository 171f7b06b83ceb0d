"""A push applies only what the CRM changed since the last sync (three-way: the values as last
synced, Lexware's now, the CRM's now); a field both sides changed is a CONFLICT naming it."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from models import Company
from tests.conftest import Api, StatementCounter, error_codes
from tests.lexware_fixtures import ACME, Lexware
from tests.test_events import events
from tests.test_lexware_contacts import COMPANY_FIELDS, IMPORT, PUSH, SYNC, company
from tests.test_lexware_robustness import scope_of

UPDATE = f"mutation($id: ID!, $i: UpdateCompanyInput!) {{ updateCompany(id: $id, input: $i) {{ {COMPANY_FIELDS} }} }}"
STATE = f"query($id: ID!) {{ company(id: $id) {{ {COMPANY_FIELDS} version lexwareSyncedAt }} }}"
TAX = "12/345/67890"  # ACME's


async def imported(lexware: Lexware) -> tuple[dict[str, Any], str]:
    acme = lexware.seed(ACME)
    crm = (await lexware.api.data(IMPORT, {"l": acme["id"]}))["importCompanyFromLexware"]
    return crm, acme["id"]


async def edit(lexware: Lexware, crm: dict[str, Any], **changes: Any) -> None:
    await lexware.api.data(UPDATE, {"id": crm["id"], "i": changes})


def in_lexware(lexware: Lexware, lexware_id: str) -> dict[str, Any]:
    stored = lexware.fake.contact(lexware.key, lexware_id)
    assert stored is not None
    return stored


async def test_a_push_after_a_409_keeps_what_only_lexware_changed(lexware: Lexware) -> None:
    crm, lexware_id = await imported(lexware)
    await edit(
        lexware, crm, name="Acme AG", phones=[{"phone": "+49 171 1234567", "type": "MOBILE"}]
    )
    billing = {"street": "Neue Str. 1", "zip": "73728", "city": "Esslingen", "countryCode": "DE"}
    changed = {"addresses": {"billing": [billing]}, "emailAddresses": {"business": ["neu@acme.de"]}}
    lexware.fake.edit_in_web_app(lexware.key, lexware_id, changed)
    # ... and someone changes the tax number between the push's read and its write.
    race = {"company": {"taxNumber": "99/999/99999"}}
    lexware.fake.edit_after_read(lexware.key, lexware_id, race)
    await lexware.api.data(PUSH, {"id": crm["id"]})
    assert [r.status for r in lexware.calls("PUT")] == [409, 200]
    stored = in_lexware(lexware, lexware_id)
    assert stored["company"]["name"] == "Acme AG"  # the CRM's change
    assert stored["phoneNumbers"] == {"business": ["+49 711 123456"], "mobile": ["+49 171 1234567"]}
    assert stored["company"]["taxNumber"] == "99/999/99999"  # before: the CRM's old one again
    assert stored["addresses"]["billing"] == [billing]
    assert stored["emailAddresses"] == {"business": ["neu@acme.de"]}
    shown = (await lexware.api.data(STATE, {"id": crm["id"]}))["company"]
    assert shown["taxId"] == TAX  # a push changes Lexware, not the CRM


async def test_a_field_both_sides_changed_is_a_conflict_and_nothing_changes(
    lexware: Lexware,
) -> None:
    crm, lexware_id = await imported(lexware)
    await edit(lexware, crm, name="Acme AG", taxId="11/111/11111")
    lexware.fake.edit_in_web_app(
        lexware.key, lexware_id, {"company": {"taxNumber": "29/999/99999"}}
    )
    before = (in_lexware(lexware, lexware_id), await lexware.api.data(STATE, {"id": crm["id"]}))
    refused = await lexware.api(PUSH, {"id": crm["id"]})
    assert error_codes(refused) == ["CONFLICT"]
    [error] = refused["errors"]
    assert "since the last sync: taxId." in error["message"]
    assert error["extensions"]["fields"] == [
        {
            "field": "taxId",
            "lexwareField": "company.taxNumber",
            "message": "changed in the CRM and in Lexware since the last sync",
        }
    ]
    after = (in_lexware(lexware, lexware_id), await lexware.api.data(STATE, {"id": crm["id"]}))
    assert after == before  # the name was not written either
    assert not lexware.calls("PUT")
    types = [e["type"] for e in await events(lexware.api, entityId=crm["id"])]
    assert "crm.company.lexware_pushed" not in types
    await edit(lexware, crm, taxId="29/999/99999")  # both now agree: nothing to decide
    await lexware.api.data(PUSH, {"id": crm["id"]})
    stored = in_lexware(lexware, lexware_id)
    assert (stored["company"]["name"], stored["company"]["taxNumber"]) == (
        "Acme AG",
        "29/999/99999",
    )


async def test_each_push_and_sync_moves_the_synced_values(lexware: Lexware) -> None:
    crm = await company(lexware, name="Basis GmbH", taxId="21/111/11111")
    lexware_id = (await lexware.api.data(PUSH, {"id": crm["id"]}))["pushCompanyToLexware"][
        "lexwareContactId"
    ]
    await edit(lexware, crm, taxId="22/222/22222")
    await lexware.api.data(PUSH, {"id": crm["id"]})  # the CRM's change goes
    lexware.fake.edit_in_web_app(
        lexware.key, lexware_id, {"company": {"taxNumber": "23/333/33333"}}
    )
    await edit(lexware, crm, name="Basis AG")
    await lexware.api.data(PUSH, {"id": crm["id"]})  # 2/2/2 was synced: Lexware's 3/3/3 stays
    stored = in_lexware(lexware, lexware_id)
    assert (stored["company"]["name"], stored["company"]["taxNumber"]) == (
        "Basis AG",
        "23/333/33333",
    )
    await lexware.api.data(PUSH, {"id": crm["id"]})  # the CRM still holds 2/2/2, unchanged
    assert in_lexware(lexware, lexware_id)["company"]["taxNumber"] == "23/333/33333"
    synced = (await lexware.api.data(SYNC, {"id": crm["id"]}))["syncCompanyFromLexware"]
    assert synced["taxId"] == "23/333/33333"
    lexware.fake.edit_in_web_app(
        lexware.key, lexware_id, {"company": {"taxNumber": "24/444/44444"}}
    )
    await edit(lexware, crm, name="Basis SE")
    await lexware.api.data(PUSH, {"id": crm["id"]})  # 3/3/3 was synced: Lexware's 4/4/4 stays
    stored = in_lexware(lexware, lexware_id)
    assert (stored["company"]["name"], stored["company"]["taxNumber"]) == (
        "Basis SE",
        "24/444/44444",
    )


async def test_a_link_stores_the_base_and_the_crm_wins_where_only_it_differs(
    lexware: Lexware,
) -> None:
    acme = lexware.seed(ACME)
    crm = await company(lexware, name="Eigen GmbH", vatId="DE811907980", taxId="25/555/55555")
    link = "mutation($c: ID!, $l: ID!) { linkCompanyToLexware(companyId: $c, lexwareContactId: $l) { id } }"
    await lexware.api.data(link, {"c": crm["id"], "l": acme["id"]})
    lexware.fake.edit_in_web_app(
        lexware.key, acme["id"], {"company": {"taxNumber": "26/666/66666"}}
    )
    refused = await lexware.api(PUSH, {"id": crm["id"]})  # both differ from the linked state
    assert [f["field"] for f in refused["errors"][0]["extensions"]["fields"]] == ["taxId"]
    await edit(lexware, crm, taxId="26/666/66666")
    await lexware.api.data(PUSH, {"id": crm["id"]})
    stored = in_lexware(lexware, acme["id"])["company"]
    assert (stored["name"], stored["vatRegistrationId"]) == ("Eigen GmbH", "DE811907980")


async def test_without_synced_values_the_crm_wins_on_every_field_it_holds(
    lexware: Lexware,
) -> None:
    """Links made before the synced values were kept: the first push is as pushes were."""
    crm, lexware_id = await imported(lexware)
    scope = await scope_of(lexware)
    forget = (
        sa.update(Company)
        .where(col(Company.id) == uuid.UUID(crm["id"]))
        .values(lexware_synced_values=None)
    )
    async with scope.writing() as session:
        await session.execute(forget)
    lexware.fake.edit_in_web_app(
        lexware.key, lexware_id, {"company": {"taxNumber": "27/777/77777"}}
    )
    await edit(lexware, crm, name="Alt AG")
    await lexware.api.data(PUSH, {"id": crm["id"]})
    stored = in_lexware(lexware, lexware_id)["company"]
    assert (stored["name"], stored["taxNumber"]) == ("Alt AG", TAX)
    lexware.fake.edit_in_web_app(
        lexware.key, lexware_id, {"company": {"taxNumber": "28/888/88888"}}
    )
    await edit(lexware, crm, name="Neu AG")
    await lexware.api.data(PUSH, {"id": crm["id"]})  # from now on, three-way
    stored = in_lexware(lexware, lexware_id)["company"]
    assert (stored["name"], stored["taxNumber"]) == ("Neu AG", "28/888/88888")


async def test_a_person_pushes_only_its_changed_names(lexware: Lexware) -> None:
    person = lexware.seed(
        {
            "version": 0,
            "roles": {"customer": {}},
            "person": {"firstName": "Jörg", "lastName": "Kern & Söhne"},
        }
    )
    imported_contact = await lexware.api.data(
        "mutation($l: ID!) { importContactFromLexware(lexwareContactId: $l) { id } }",
        {"l": person["id"]},
    )
    contact_id = imported_contact["importContactFromLexware"]["id"]
    lexware.fake.edit_in_web_app(lexware.key, person["id"], {"person": {"firstName": "Jürgen"}})
    await lexware.api.data(
        'mutation($id: ID!) { updateContact(id: $id, input: {salutation: "Herr"}) { id } }',
        {"id": contact_id},
    )
    await lexware.api.data(
        "mutation($id: ID!) { pushContactToLexware(id: $id) { id } }", {"id": contact_id}
    )
    stored = in_lexware(lexware, person["id"])["person"]
    # The unchanged last name goes back as text, stored once escaped (not "&amp;amp;").
    assert stored == {"salutation": "Herr", "firstName": "Jürgen", "lastName": "Kern &amp; Söhne"}


# Each side's change is found against its own last synced values: the CRM's view and
# Lexware's differ wherever the mapping is not one to one (several Lexware lists to one CRM
# type, the CRM's primary against Lexware's first entry, the CRM's normalised values).
SEVERAL = {
    "version": 0,
    "roles": {"customer": {}},
    "company": {"name": "Mehrfach GmbH", "vatRegistrationId": "de 811 907 980"},
    "emailAddresses": {"office": ["office@mehrfach.de"]},
    "phoneNumbers": {"private": ["+49 30 111"], "business": ["+49  30 222"]},
}


async def imported_several(lexware: Lexware) -> tuple[dict[str, Any], str]:
    seeded = lexware.seed(SEVERAL)
    crm = (await lexware.api.data(IMPORT, {"l": seeded["id"]}))["importCompanyFromLexware"]
    return crm, seeded["id"]


async def test_a_push_after_an_import_writes_nothing_the_crm_did_not_change(
    lexware: Lexware,
) -> None:
    crm, lexware_id = await imported_several(lexware)
    before = in_lexware(lexware, lexware_id)
    await edit(lexware, crm, website="https://mehrfach.de")
    await lexware.api.data(PUSH, {"id": crm["id"]})
    # Before: business phone +49 30 111, an added business e-mail, the VAT id rewritten.
    assert not lexware.calls("PUT")
    assert in_lexware(lexware, lexware_id) == before
    assert crm["vatId"] == "DE811907980"  # normalised by the CRM
    assert crm["phones"] == [  # Lexware's business phone is the CRM's primary one
        {"phone": "+49 30 222", "type": "OFFICE", "isPrimary": True},
        {"phone": "+49 30 111", "type": "OFFICE", "isPrimary": False},
    ]
    await edit(lexware, crm, name="Mehrfach AG")
    await lexware.api.data(PUSH, {"id": crm["id"]})
    after = in_lexware(lexware, lexware_id)
    assert after == {
        **before,
        "company": {**before["company"], "name": "Mehrfach AG"},
        "version": 2,
    }


async def test_a_web_app_change_of_a_field_the_crm_did_not_change_is_no_conflict(
    lexware: Lexware,
) -> None:
    crm, lexware_id = await imported_several(lexware)
    phones = {"private": ["+49 30 111"], "business": ["+49 30 333"]}
    lexware.fake.edit_in_web_app(lexware.key, lexware_id, {"phoneNumbers": phones})
    await edit(lexware, crm, name="Mehrfach AG")
    await lexware.api.data(PUSH, {"id": crm["id"]})  # before: CONFLICT on phones
    stored = in_lexware(lexware, lexware_id)
    assert (stored["company"]["name"], stored["phoneNumbers"]) == ("Mehrfach AG", phones)


async def test_a_sync_settles_a_conflict_as_its_message_says(lexware: Lexware) -> None:
    crm, lexware_id = await imported_several(lexware)
    await edit(lexware, crm, phones=[{"phone": "+49 30 444", "isPrimary": True}])
    phones = {"private": ["+49 30 111"], "business": ["+49 30 333"]}
    lexware.fake.edit_in_web_app(lexware.key, lexware_id, {"phoneNumbers": phones})
    refused = await lexware.api(PUSH, {"id": crm["id"]})
    assert error_codes(refused) == ["CONFLICT"]
    message = refused["errors"][0]["message"]
    assert "since the last sync: phones." in message and "syncCompanyFromLexware" in message
    synced = (await lexware.api.data(SYNC, {"id": crm["id"]}))["syncCompanyFromLexware"]
    # Lexware's business phone is the CRM's now; the CRM's own stays as another one.
    primary, *others = synced["phones"]
    assert primary == {"phone": "+49 30 333", "type": "OFFICE", "isPrimary": True}
    assert sorted(p["phone"] for p in others) == ["+49 30 111", "+49 30 444"]
    pushed = await lexware.api(PUSH, {"id": crm["id"]})  # before: the same CONFLICT again
    assert "errors" not in pushed, pushed
    assert not lexware.calls("PUT") and in_lexware(lexware, lexware_id)["phoneNumbers"] == phones
    # To keep the CRM's instead: set it again after the sync, then push.
    await edit(lexware, crm, phones=[{"phone": "+49 30 444", "isPrimary": True}])
    await lexware.api.data(PUSH, {"id": crm["id"]})
    assert in_lexware(lexware, lexware_id)["phoneNumbers"]["business"] == ["+49 30 444"]


async def test_a_sync_stores_the_crm_values_as_saved(lexware: Lexware) -> None:
    crm, lexware_id = await imported_several(lexware)
    lexware.fake.edit_in_web_app(
        lexware.key, lexware_id, {"company": {"vatRegistrationId": "de 123 456 788"}}
    )
    synced = (await lexware.api.data(SYNC, {"id": crm["id"]}))["syncCompanyFromLexware"]
    assert synced["vatId"] == "DE123456788"
    before = in_lexware(lexware, lexware_id)
    await edit(lexware, crm, website="https://mehrfach.de")
    await lexware.api.data(PUSH, {"id": crm["id"]})
    assert not lexware.calls("PUT")  # before: the normalised VAT id "changed" in the CRM
    assert in_lexware(lexware, lexware_id) == before


async def test_reads_and_edits_of_records_leave_the_synced_values_unread(
    api: Api, sql: StatementCounter
) -> None:
    """Only a push needs the merge base (a JSON document): no other statement reads it."""
    created = await api.data('mutation { createCompany(input: {name: "Lesen GmbH"}) { id } }')
    company_id = created["createCompany"]["id"]
    await api.data(
        'mutation($c: ID!) { createContact(input: {lastName: "Leser", companyId: $c}) { id } }',
        {"c": company_id},
    )
    await api.data(
        'mutation($id: ID!) { updateCompany(id: $id, input: {name: "Lesen AG"}) { id } }',
        {"id": company_id},
    )
    await api.data(
        "query($id: ID!) { company(id: $id) { name lexwareContactId "
        "contacts { edges { node { lastName } } } } }",
        {"id": company_id},
    )
    await api.data("{ companies { edges { node { name } } } contacts { edges { node { id } } } }")
    assert sql.count > 0
    assert [s for s in sql.statements if "lexware_synced_values" in s] == []
