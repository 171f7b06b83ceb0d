"""GDPR erasure (app/services/privacy/service.py): nothing of the person is left in the
database (every text and JSON column searched, tests/test_privacy.py: places_holding), the
events stay gapless, others' data stays, Lexware is not touched."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import orjson
import sqlalchemy as sa

from app.services.privacy.rules import MARKER
from tests.conftest import Api, error_codes
from tests.lexware_fixtures import ACME, PERSON, Lexware
from tests.live import graphql_socket
from tests.test_deals import pipeline
from tests.test_merges import MERGE_CONTACTS
from tests.test_privacy import (
    CREATE_CONTACT,
    ERASE,
    EXPORT,
    Sessions,
    add_events,
    event_seqs,
    make_person,
    places_holding,
    stored_response,
    trash,
)
from tests.test_subscriptions import CRM_EVENTS

CONTACT_VERSION = "query($id: ID!) { contact(id: $id) { id version } }"


async def test_erasure_leaves_no_personal_value_anywhere_in_the_database(
    api: Api, owner_sessions: Sessions
) -> None:
    await pipeline(api)
    key, other_key = f"k-{uuid.uuid4().hex}", f"k-{uuid.uuid4().hex}"
    person = await make_person(api, "Wiltrud", "Quappendorf", idempotency_key=key)
    other = await make_person(api, "Bertram", "Oelschlaeger", idempotency_key=other_key)
    before = await places_holding(owner_sessions, person.values)
    assert all(before.values()), before  # each value is somewhere before (the search works)
    assert "crm_event.changes" in before[person.values[0]]
    seqs = await event_seqs(owner_sessions, person.id)
    assert seqs == list(range(1, len(seqs) + 1))

    erased = (await api.data(ERASE, {"c": person.id}))["eraseContact"]

    assert erased["contactId"] == person.id
    assert (erased["activitiesErased"], erased["dealsUnlinked"]) == (1, 1)
    assert erased["activitiesScrubbed"] == 2  # the shared one, and the one naming her e-mail
    assert erased["eventsErased"] > 0 and erased["eventsScrubbed"] > 0
    assert erased["storedResponsesScrubbed"] == 1
    assert erased["recordsScrubbed"] == 2  # the company's notes, the other deal's title
    assert erased["lexwareContactId"] is None and "Lexware" in erased["lexwareNotice"]
    after = await places_holding(owner_sessions, person.values)
    assert after == {value: [] for value in person.values}
    assert MARKER.encode() in await stored_response(owner_sessions, key)
    for value in person.values:
        assert value.encode() not in await stored_response(owner_sessions, key)
    # The events stay, gapless, with one more: the erasure's own.
    assert await event_seqs(owner_sessions, person.id) == list(range(1, len(seqs) + 2))
    # The second person is untouched.
    kept = await places_holding(owner_sessions, other.values)
    assert all(kept.values()), kept
    assert other.values[0].encode() in await stored_response(owner_sessions, other_key)


async def test_erasure_keeps_what_belongs_to_others_and_says_what_it_did(api: Api) -> None:
    await pipeline(api)
    person = await make_person(api, "Wiltrud", "Quappendorf", idempotency_key=uuid.uuid4().hex)
    first, last, *_ = person.values
    email, mobile = person.values[3], person.values[6]
    await api.data(ERASE, {"c": person.id})
    found = await api("query($c: ID!) { contact(id: $c) { id } }", {"c": person.id})
    assert error_codes(found) == ["NOT_FOUND"]
    # The shared activity stays with the company, without her values; her own one is gone.
    shared = await api.data(
        "query($a: ID!) { activity(id: $a) { subject body contact { id } company { id } } }",
        {"a": person.activities["shared"]},
    )
    assert shared["activity"] == {
        "subject": f"Termin {MARKER}",
        "body": f"{MARKER} erreichbar unter {MARKER}; Agenda folgt",
        "contact": None,
        "company": {"id": person.company},
    }
    mention = await api.data(
        "query($a: ID!) { activity(id: $a) { body } }", {"a": person.activities["mention"]}
    )
    assert mention["activity"]["body"] == f"an {MARKER}, cc Vertrieb"
    own = await api("query($a: ID!) { activity(id: $a) { id } }", {"a": person.activities["own"]})
    assert error_codes(own) == ["NOT_FOUND"]
    deal = await api.data(
        "query($d: ID!) { deal(id: $d) { title contact { id } company { id } } }",
        {"d": person.deal},
    )
    assert deal["deal"] == {
        "title": f"Lizenzen {MARKER}",
        "contact": None,
        "company": {"id": person.company},
    }
    others = await api.data(
        """query($d: ID!, $c: ID!) { deal(id: $d) { title } company(id: $c) { notes } }""",
        {"d": person.mentioned_deal, "c": person.company},
    )
    assert others == {
        "deal": {"title": f"Rahmenvertrag via {MARKER}"},
        "company": {"notes": f"Ansprechpartnerin {MARKER}, Tel. {MARKER}"},
    }
    # Her events are there, without values; the erasure's own event carries none either.
    history = await api.data(
        """query($c: ID!) { events(entityId: $c, first: 50) { edges { node {
             type actorId changes } } } }""",
        {"c": person.id},
    )
    nodes = [edge["node"] for edge in history["events"]["edges"]]
    assert nodes[0]["type"] == "crm.contact.created"
    created = nodes[0]["changes"]
    assert created["firstName"] == [None, MARKER] and created["companyId"] == [None, person.company]
    erased = nodes[-1]
    assert erased["type"] == "crm.contact.erased" and erased["actorId"]
    text = orjson.dumps(erased["changes"]).decode()
    for value in (first, last, email, mobile, "Frau", "Einkauf", "1980"):
        assert value not in text
    assert erased["changes"]["counts"]["activitiesErased"] == 1
    assert erased["changes"]["dealIdsUnlinked"] == [person.deal]
    assert erased["changes"]["recordIdsScrubbed"] == {
        "company": [person.company],
        "deal": [person.mentioned_deal],
    }
    assert erased["changes"]["erasedBy"] == erased["actorId"]


async def test_a_lexware_linked_person_is_exported_and_erased_without_touching_lexware(
    lexware: Lexware, owner_sessions: Sessions
) -> None:
    tag = uuid.uuid4().hex[:6]
    first, last, email = f"Inge{tag}", f"Musterfrau{tag}", f"inge.{tag}@example.de"
    person = lexware.seed(
        {
            **PERSON,
            "person": {"salutation": "Frau", "firstName": first, "lastName": last},
            "emailAddresses": {"private": [email]},
        }
    )
    imported = await lexware.api.data(
        "mutation($l: ID!) { importContactFromLexware(lexwareContactId: $l) { id } }",
        {"l": person["id"]},
    )
    contact_id = imported["importContactFromLexware"]["id"]
    for number in ("RE-1", "RE-2"):
        lexware.fake.seed_voucher(lexware.key, {"contactId": person["id"], "voucherNumber": number})
    await lexware.api.data(
        "mutation($id: ID!) { refreshContactVouchers(id: $id) { id } }", {"id": contact_id}
    )
    exported = (await lexware.api.data(EXPORT, {"c": contact_id}))["exportPersonalData"]
    assert exported["lexwareContactId"] == person["id"]
    assert {v["voucherNumber"] for v in exported["lexwareVouchers"]} == {"RE-1", "RE-2"}
    assert all(last in v["contactName"] for v in exported["lexwareVouchers"])
    synced = orjson.dumps(exported["lexwareSyncedValues"]).decode()
    assert last in synced and email in synced
    assert exported["document"]["lexware"]["contactId"] == person["id"]
    assert len(exported["document"]["lexware"]["vouchers"]) == 2
    values = [first, last, email]
    assert all((await places_holding(owner_sessions, values)).values())
    calls = len(lexware.calls())

    erased = (await lexware.api.data(ERASE, {"c": contact_id}))["eraseContact"]

    assert erased["lexwareContactId"] == person["id"]
    assert erased["vouchersScrubbed"] == 2
    notice = erased["lexwareNotice"]
    assert "§147 AO" in notice and "§257 HGB" in notice and person["id"] in notice
    assert "did not change or delete anything in Lexware Office" in notice
    assert await places_holding(owner_sessions, values) == {value: [] for value in values}
    assert len(lexware.calls()) == calls  # not a request to Lexware
    in_lexware = lexware.fake.contact(lexware.key, person["id"])
    assert in_lexware is not None and in_lexware["person"]["lastName"] == last


async def test_the_merge_base_of_a_company_whose_contact_person_was_erased_is_dropped(
    lexware: Lexware, owner_sessions: Sessions
) -> None:
    """A linked company's synced values hold its first contact as Lexware's contact person
    (app/lexware/fields.py): erasing that person drops the company's merge base."""
    tag = uuid.uuid4().hex[:6]
    first, last, email = f"Gisela{tag}", f"Pfannkuch{tag}", f"gisela.{tag}@example.de"
    acme = lexware.seed(ACME)
    company = await lexware.api.data(
        "mutation($l: ID!) { importCompanyFromLexware(lexwareContactId: $l) { id } }",
        {"l": acme["id"]},
    )
    company_id = company["importCompanyFromLexware"]["id"]
    contact: dict[str, Any] = {"firstName": first, "lastName": last, "companyId": company_id}
    contact["emails"] = [{"email": email}]
    created = await lexware.api.data(CREATE_CONTACT, {"i": contact})
    await lexware.api.data(
        "mutation($id: ID!) { pushCompanyToLexware(id: $id) { id } }", {"id": company_id}
    )
    values = [first, last, email]
    before = await places_holding(owner_sessions, values)
    assert "company.lexware_synced_values" in before[email], before
    calls = len(lexware.calls())

    await lexware.api.data(ERASE, {"c": created["createContact"]["id"]})

    assert await places_holding(owner_sessions, values) == {value: [] for value in values}
    assert len(lexware.calls()) == calls
    async with owner_sessions() as session:
        base = await session.execute(
            sa.text("SELECT lexware_synced_values FROM company WHERE id = :c"),
            {"c": uuid.UUID(company_id)},
        )
        assert base.scalar_one() is None


async def test_a_trashed_person_with_trashed_activities_and_deals_is_exported_and_erased(
    api: Api, owner_sessions: Sessions
) -> None:
    await pipeline(api)
    person = await make_person(api, "Trude", "Papierkorb", idempotency_key=uuid.uuid4().hex)
    await trash(owner_sessions, "activity", person.activities["own"])
    await trash(owner_sessions, "activity", person.activities["shared"])
    await trash(owner_sessions, "deal", person.deal)
    await trash(owner_sessions, "contact", person.id)
    hidden = await api("query($c: ID!) { contact(id: $c) { id } }", {"c": person.id})
    assert error_codes(hidden) == ["NOT_FOUND"]  # trashed: hidden from ordinary reads

    exported = (await api.data(EXPORT, {"c": person.id}))["exportPersonalData"]
    assert exported["document"]["contact"]["id"] == person.id
    assert exported["document"]["contact"]["deletedAt"] is not None
    assert {a["id"] for a in exported["document"]["activities"]} == {
        person.activities["own"],
        person.activities["shared"],
    }
    assert [d["id"] for d in exported["document"]["deals"]] == [person.deal]

    erased = (await api.data(ERASE, {"c": person.id}))["eraseContact"]
    assert (erased["activitiesErased"], erased["dealsUnlinked"]) == (1, 1)
    after = await places_holding(owner_sessions, person.values)
    assert after == {value: [] for value in person.values}


async def test_erasure_reaches_every_event_of_a_long_history(
    api: Api, owner_sessions: Sessions
) -> None:
    """120,000 events of other records, then the person's: more than one window of the
    tenant-wide scan and more than one batch of its own events (scrubbing.WINDOW, BATCH)."""
    tag = uuid.uuid4().hex[:6]
    first, last, email = f"Lange{tag}", f"Historie{tag}", f"lange.{tag}@example.de"
    contact = {"firstName": first, "lastName": last, "emails": [{"email": email}]}
    contact_id = (await api.data(CREATE_CONTACT, {"i": contact}))["createContact"]["id"]
    await add_events(
        owner_sessions, contact_id, 120_000, "company", "jsonb_build_object('size', g)"
    )
    own = f"jsonb_build_object('position', jsonb_build_array('{first} ' || g, NULL))"
    await add_events(owner_sessions, contact_id, 1_200, "contact", own)
    mention = f"""jsonb_build_object('notes', jsonb_build_array(NULL, 'Ansprechpartner {email}'))"""
    await add_events(owner_sessions, contact_id, 1, "company", mention)
    seqs = await event_seqs(owner_sessions, contact_id)
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) > 121_000

    erased = (await api.data(ERASE, {"c": contact_id}))["eraseContact"]

    assert erased["eventsErased"] == 1 + 1_200  # created, and the 1,200 edits
    assert erased["eventsScrubbed"] == 1
    assert await event_seqs(owner_sessions, contact_id) == list(range(1, len(seqs) + 2))
    async with owner_sessions() as session:
        left = await session.execute(
            sa.text(
                """SELECT count(*) FROM crm_event
                   WHERE changes::text ILIKE :a OR changes::text ILIKE :b"""
            ),
            {"a": f"%{first}%", "b": f"%{email}%"},
        )
        assert left.scalar_one() == 0


async def test_subscribers_get_the_erasure_live_and_replay_a_scrubbed_gapless_history(
    api: Api, live: str, owner_sessions: Sessions
) -> None:
    """Redis keeps no replay buffer (pub/sub): a resuming subscriber reads the outbox, which
    the erasure scrubbed. A live one gets `crm.contact.erased` without personal values."""
    await pipeline(api)
    person = await make_person(api, "Live", "Abonnentin", idempotency_key=uuid.uuid4().hex)
    async with graphql_socket(live) as socket:
        await socket.init(api.token("viewer"))
        await socket.subscribe(CRM_EVENTS, {"types": ["crm.contact.erased"]})
        await asyncio.sleep(0.3)  # the subscription registers
        await api.data(ERASE, {"c": person.id})
        event = (await socket.next_data())["crmEvents"]
        assert (event["type"], event["entityId"]) == ("crm.contact.erased", person.id)
        assert not any(value in orjson.dumps(event).decode() for value in person.values)
    seqs = await event_seqs(owner_sessions, person.id)
    async with graphql_socket(live) as socket:
        await socket.init(api.token("viewer"))
        await socket.subscribe(CRM_EVENTS, {"after": "0"})
        replayed = [(await socket.next_data())["crmEvents"] for _ in seqs]
        assert await socket.nothing_within(0.3)
    assert [int(e["id"]) for e in replayed] == seqs == list(range(1, len(seqs) + 1))
    assert replayed[-1]["type"] == "crm.contact.erased"
    text = orjson.dumps(replayed).decode().lower()
    assert [value for value in person.values if value.lower() in text] == []
    assert any(e["entityId"] == person.id and e["type"] == "crm.contact.created" for e in replayed)


async def test_erasing_a_survivor_erases_the_records_merged_into_it(
    api: Api, owner_sessions: Sessions
) -> None:
    """A person entered twice and merged: the merged record's names, e-mails and phones live
    on in its events and in texts moved to the survivor (its activity "Anruf <name>"); the
    erasure reads them back from the merged id's events and leaves none of either, and the
    tombstone goes (the merged id answers NOT_FOUND like the survivor's)."""
    await pipeline(api)
    person = await make_person(api, "Wiltrud", "Quappendorf", idempotency_key=uuid.uuid4().hex)
    twin = await make_person(api, "Wiltrude", "Quappendorff", idempotency_key=uuid.uuid4().hex)
    version = (await api.data(CONTACT_VERSION, {"id": person.id}))["contact"]["version"]
    await api.data(MERGE_CONTACTS, {"s": person.id, "m": [twin.id], "v": version})
    assert (await api.data(CONTACT_VERSION, {"id": twin.id}))["contact"]["id"] == person.id

    await api.data(ERASE, {"c": person.id})

    values = [*person.values, *twin.values]
    assert await places_holding(owner_sessions, values) == {value: [] for value in values}
    for gone in (person.id, twin.id):
        assert error_codes(await api(CONTACT_VERSION, {"id": gone})) == ["NOT_FOUND"]


async def test_the_texts_of_trashed_records_lose_the_persons_values_too(
    api: Api, owner_sessions: Sessions
) -> None:
    """A trashed company's notes naming the person are scrubbed as a live one's are: the
    trash hides records from reads, not from the erasure."""
    await pipeline(api)
    person = await make_person(api, "Wiltrud", "Quappendorf", idempotency_key=uuid.uuid4().hex)
    full_name = person.values[2]
    made = await api.data(
        "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }",
        {"i": {"name": "Papierkorb GmbH", "notes": f"Ansprechpartnerin {full_name}"}},
    )
    company_id = made["createCompany"]["id"]
    await api.data("mutation($id: ID!) { deleteCompany(id: $id) }", {"id": company_id})

    await api.data(ERASE, {"c": person.id})

    assert await places_holding(owner_sessions, [full_name]) == {full_name: []}


async def test_the_persons_address_stored_on_a_company_goes_with_her(
    api: Api, owner_sessions: Sessions
) -> None:
    """Her e-mail address and phone number stored on a company too (her direct line as the
    company's number) are hers: deleted from the company, which is named in the answer; the
    company's other values stay."""
    await pipeline(api)
    person = await make_person(api, "Wiltrud", "Quappendorf", idempotency_key=uuid.uuid4().hex)
    email, phone = person.values[3], person.values[5]
    made = await api.data(
        "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }",
        {
            "i": {
                "name": "Durchwahl GmbH",
                "emails": [{"email": email.upper()}, {"email": "zentrale@durchwahl.de"}],
                "phones": [{"phone": phone}],
            }
        },
    )
    company_id = made["createCompany"]["id"]

    erased = (await api.data(ERASE, {"c": person.id}))["eraseContact"]

    assert erased["recordsScrubbed"] == 3  # her company's notes, the other deal, this company
    assert await places_holding(owner_sessions, [email, phone]) == {email: [], phone: []}
    kept = await api.data(
        "query($id: ID!) { company(id: $id) { emails { email } phones { phone } } }",
        {"id": company_id},
    )
    assert kept["company"] == {"emails": [{"email": "zentrale@durchwahl.de"}], "phones": []}
