"""GDPR: exportPersonalData and eraseContact (app/services/privacy).

The erasure's main check reads the whole database as its owner: every text, varchar and
json/jsonb column of every table (found in information_schema, so a column added later is
searched too) for each of the person's values, and finds none.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.settings import Settings
from tests.conftest import Api, Tokens, error_codes, serving
from tests.test_deals import pipeline

EXPORT = """query($c: ID!, $a: ID) { exportPersonalData(contactId: $c, eventsAfter: $a) {
  generatedAt
  contact { id firstName lastName notes linkedinUrl birthday tags company { id } }
  emails { email } phones { phone } owners { user { id } role }
  activities { id subject body } deals { id title }
  lexwareContactId lexwareSyncedValues lexwareVouchers { voucherNumber contactName }
  storedResponses { operation }
  events { id type entity entityId changes }
  eventsTotal eventsComplete eventsNextAfter document } }"""
ERASE = """mutation($c: ID!) { eraseContact(contactId: $c) { contactId erasedAt
  activitiesErased activitiesScrubbed dealsUnlinked eventsErased eventsScrubbed
  storedResponsesScrubbed vouchersScrubbed recordsScrubbed lexwareContactId lexwareNotice } }"""
CREATE_CONTACT = """mutation($i: CreateContactInput!) { createContact(input: $i) {
  id firstName lastName emails { email } } }"""
UPDATE_CONTACT = """mutation($id: ID!, $i: UpdateContactInput!) {
  updateContact(id: $id, input: $i) { id position phones { phone } } }"""
CREATE_ACTIVITY = """mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }"""
UPDATE_ACTIVITY = """mutation($id: ID!, $i: UpdateActivityInput!) {
  updateActivity(id: $id, input: $i) { id } }"""
CREATE_DEAL = """mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }"""
CREATE_COMPANY = "mutation($n: String!) { createCompany(input: {name: $n}) { id } }"

Sessions = async_sessionmaker[AsyncSession]


@dataclass
class Person:
    id: str
    values: list[str]  # what must be gone after the erasure
    activities: dict[str, str] = field(default_factory=dict)
    deal: str = ""
    company: str = ""
    mentioned_deal: str = ""


def _digits(count: int) -> str:
    return "".join(str(uuid.uuid4().int)[:count])


async def make_person(api: Api, first: str, last: str, *, idempotency_key: str) -> Person:
    """A contact with every kind of data: e-mails, phones, notes, LinkedIn, birthday, tags, an
    owner, a company, a deal, an activity of its own, one shared with its company, an edit
    (events with old and new values), and a response stored for an idempotent retry."""
    tag = uuid.uuid4().hex[:6]
    first, last = f"{first}{tag}", f"{last}{tag}"
    email, private = f"{first}.{last}@example.de".lower(), f"{tag}@privat-mail.de"
    phone, mobile = f"+49 711 {_digits(7)}", f"+49 171 {_digits(7)}"
    linkedin = f"https://www.linkedin.com/in/{first.lower()}-{last.lower()}"
    notes = f"Notiz{tag}: trinkt keinen Kaffee"
    company = (await api.data(CREATE_COMPANY, {"n": f"Werkstatt {tag} GmbH"}))["createCompany"]
    contact = {
        "salutation": "Frau",
        "firstName": first,
        "lastName": last,
        "position": "Einkauf",
        "linkedinUrl": linkedin,
        "birthday": "1980-02-29",
        "tags": ["vip"],
        "notes": notes,
        "companyId": company["id"],
        "emails": [{"email": email}, {"email": private, "type": "PERSONAL"}],
        "phones": [{"phone": phone}],
    }
    created = await api.post(
        {"query": CREATE_CONTACT, "variables": {"i": contact}},
        token=api.token("admin"),
        headers={"Idempotency-Key": idempotency_key},
    )
    answer = created.json()
    assert "errors" not in answer, answer
    contact_id = answer["data"]["createContact"]["id"]
    await api.data(
        UPDATE_CONTACT,
        {
            "id": contact_id,
            "i": {"position": "Leitung", "phones": [{"phone": phone}, {"phone": mobile}]},
        },
    )
    person = Person(
        contact_id,
        [first, last, f"{first} {last}", email, private, phone, mobile, linkedin, notes],
        company=company["id"],
    )
    own = {
        "type": "CALL",
        "subject": f"Anruf {first} {last}",
        "body": f"Rückruf an {email}",
        "contactId": contact_id,
    }
    shared = {
        "type": "MEETING",
        "subject": f"Termin mit {first} und Team",
        "body": f"{last} erreichbar unter {mobile}; Agenda folgt",
        "contactId": contact_id,
        "companyId": company["id"],
    }
    mention = {
        "type": "TASK",
        "subject": "Angebot senden",
        "body": f"an {email}, cc Vertrieb",
        "companyId": company["id"],
    }
    # Named once, then edited: only its events still hold her number.
    named_once = {"type": "NOTE", "subject": f"Nummer {mobile}", "companyId": company["id"]}
    kinds = (("own", own), ("shared", shared), ("mention", mention), ("once", named_once))
    for name, activity in kinds:
        person.activities[name] = (await api.data(CREATE_ACTIVITY, {"i": activity}))[
            "createActivity"
        ]["id"]
    await api.data(
        UPDATE_ACTIVITY, {"id": person.activities["shared"], "i": {"subject": f"Termin {last}"}}
    )
    await api.data(UPDATE_ACTIVITY, {"id": person.activities["once"], "i": {"subject": "Notiz"}})
    deal = {
        "title": f"Lizenzen {last}",
        "value": "1200",
        "contactId": contact_id,
        "companyId": company["id"],
    }
    person.deal = (await api.data(CREATE_DEAL, {"i": deal}))["createDeal"]["id"]
    # Written down in other records' free texts.
    notes = f"Ansprechpartnerin {first} {last}, Tel. {phone}"
    await api.data(
        "mutation($id: ID!, $n: String) { updateCompany(id: $id, input: {notes: $n}) { id } }",
        {"id": company["id"], "n": notes},
    )
    framework = {"title": f"Rahmenvertrag via {email}", "companyId": company["id"]}
    person.mentioned_deal = (await api.data(CREATE_DEAL, {"i": framework}))["createDeal"]["id"]
    return person


async def text_columns(sessions: Sessions) -> list[tuple[str, list[str]]]:
    """Every base table with its text, varchar and json/jsonb columns."""
    statement = sa.text(
        """SELECT c.table_name, array_agg(c.column_name::text ORDER BY c.column_name)
           FROM information_schema.columns c
           JOIN information_schema.tables t
             ON t.table_schema = c.table_schema AND t.table_name = c.table_name
           WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
             AND c.data_type IN ('text', 'character varying', 'json', 'jsonb')
           GROUP BY c.table_name ORDER BY c.table_name"""
    )
    async with sessions() as session:
        return [(row[0], list(row[1])) for row in await session.execute(statement)]


async def places_holding(sessions: Sessions, values: Sequence[str]) -> dict[str, list[str]]:
    """value -> the table.column places (anywhere in the database) whose text holds it,
    ignoring case (a JSON column as its text: a value is searched as JSON writes it)."""
    found: dict[str, list[str]] = {value: [] for value in values}
    tables = await text_columns(sessions)
    assert any(table == "crm_event" and "changes" in columns for table, columns in tables)
    async with sessions() as session:
        for table, columns in tables:
            for column in columns:
                statement = sa.text(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE :pattern'
                )
                for value in values:
                    written = orjson.dumps(value).decode()[1:-1]
                    pattern = "%" + written.replace("\\", "\\\\").replace("%", "\\%") + "%"
                    if (await session.execute(statement, {"pattern": pattern})).scalar_one():
                        found[value].append(f"{table}.{column}")
    return found


async def event_seqs(sessions: Sessions, contact_id: str) -> list[int]:
    statement = sa.text(
        """SELECT seq FROM crm_event WHERE tenant_id =
             (SELECT tenant_id FROM crm_event WHERE entity_id = :c LIMIT 1) ORDER BY seq"""
    )
    async with sessions() as session:
        return [row[0] for row in await session.execute(statement, {"c": uuid.UUID(contact_id)})]


async def stored_response(sessions: Sessions, key: str) -> bytes:
    statement = sa.text("SELECT response_body FROM idempotency_key WHERE key = :k")
    async with sessions() as session:
        return bytes((await session.execute(statement, {"k": key})).scalar_one())


async def trash(sessions: Sessions, table: str, row_id: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            sa.text(f"UPDATE {table} SET deleted_at = now() WHERE id = :i"),
            {"i": uuid.UUID(row_id)},
        )


async def add_events(
    sessions: Sessions, contact_id: str, count: int, entity: str, changes_sql: str
) -> None:
    """`count` events of the contact's tenant after its latest, numbered on without a gap."""
    async with sessions() as session, session.begin():
        tenant = (
            await session.execute(
                sa.text("SELECT tenant_id FROM contact WHERE id = :c"), {"c": uuid.UUID(contact_id)}
            )
        ).scalar_one()
        last = (
            await session.execute(
                sa.text("SELECT last_seq FROM event_counter WHERE tenant_id = :t FOR UPDATE"),
                {"t": tenant},
            )
        ).scalar_one()
        subject = "CAST(:c AS uuid)" if entity == "contact" else "gen_random_uuid()"
        await session.execute(
            sa.text(
                f"""INSERT INTO crm_event (tenant_id, seq, type, entity, entity_id, changes)
                SELECT :t, CAST(:last AS bigint) + g, 'crm.{entity}.updated', '{entity}',
                       {subject}, {changes_sql}
                FROM generate_series(1, :n) AS g"""
            ),
            {"t": tenant, "last": last, "n": count, "c": contact_id},
        )
        await session.execute(
            sa.text("UPDATE event_counter SET last_seq = last_seq + :n WHERE tenant_id = :t"),
            {"t": tenant, "n": count},
        )


async def test_the_export_holds_every_piece_of_the_person(api: Api) -> None:
    await pipeline(api)
    key = f"k-{uuid.uuid4().hex}"
    person = await make_person(api, "Wiltrud", "Quappendorf", idempotency_key=key)
    exported = (await api.data(EXPORT, {"c": person.id}))["exportPersonalData"]
    contact = exported["contact"]
    first, last, _, email, private, phone, mobile, linkedin, notes = person.values
    assert (contact["firstName"], contact["lastName"]) == (first, last)
    assert (contact["notes"], contact["linkedinUrl"]) == (notes, linkedin)
    assert contact["birthday"] == "1980-02-29" and contact["tags"] == ["vip"]
    assert contact["company"] == {"id": person.company}
    assert {e["email"] for e in exported["emails"]} == {email, private}
    assert {p["phone"] for p in exported["phones"]} == {phone, mobile}
    assert [o["role"] for o in exported["owners"]] == ["OWNER"]
    assert {a["id"] for a in exported["activities"]} == {
        person.activities["own"],
        person.activities["shared"],
    }
    assert [d["id"] for d in exported["deals"]] == [person.deal]
    assert exported["lexwareContactId"] is None and exported["lexwareVouchers"] == []
    assert len(exported["storedResponses"]) == 1  # the createContact retried by its key
    # Events: the contact's own (created, updated with its phones), its activities' and
    # those of the deal it is the contact of.
    kinds = {(e["entity"], e["type"]) for e in exported["events"]}
    assert {("contact", "crm.contact.created"), ("contact", "crm.contact.updated")} <= kinds
    assert {("activity", "crm.activity.created"), ("activity", "crm.activity.updated")} <= kinds
    deal_events = {e["entityId"] for e in exported["events"] if e["entity"] == "deal"}
    assert deal_events == {person.deal}
    assert all(e["entityId"] != person.activities["mention"] for e in exported["events"])
    assert exported["eventsTotal"] == len(exported["events"]) and exported["eventsComplete"]
    assert exported["eventsNextAfter"] is None
    # The same as one document.
    document = exported["document"]
    assert document["generatedAt"] == exported["generatedAt"]
    assert document["contact"]["firstName"] == first
    assert document["contact"]["birthday"] == "1980-02-29"
    assert {e["email"] for e in document["emails"]} == {email, private}
    assert {p["phone"] for p in document["phones"]} == {phone, mobile}
    assert len(document["owners"]) == 1 and document["tags"] == ["vip"]
    assert document["company"] == {"id": person.company}
    assert {a["subject"] for a in document["activities"]} == {
        a["subject"] for a in exported["activities"]
    }
    assert [d["title"] for d in document["deals"]] == [f"Lizenzen {last}"]
    assert document["lexware"]["contactId"] is None
    assert len(document["storedResponses"]) == 1
    assert document["events"]["total"] == exported["eventsTotal"]
    assert document["events"]["complete"] is True
    assert [e["id"] for e in document["events"]["items"]] == [e["id"] for e in exported["events"]]


async def test_erasing_twice_is_not_found_saying_it_was_erased(api: Api) -> None:
    created = await api.data(CREATE_CONTACT, {"i": {"lastName": "Einmal"}})
    contact_id = created["createContact"]["id"]
    await api.data(ERASE, {"c": contact_id})
    again = await api(ERASE, {"c": contact_id})
    assert error_codes(again) == ["NOT_FOUND"]
    assert again["errors"][0]["extensions"]["erasedEventId"]
    assert "erased" in again["errors"][0]["message"]
    exported = await api(EXPORT, {"c": contact_id})
    assert error_codes(exported) == ["NOT_FOUND"]
    unknown = await api(ERASE, {"c": str(uuid.uuid4())})
    assert error_codes(unknown) == ["NOT_FOUND"]
    assert "erasedEventId" not in unknown["errors"][0]["extensions"]
    bad = await api(ERASE, {"c": "nope"})
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    bad_cursor = await api(EXPORT, {"c": str(uuid.uuid4()), "a": "-1"})
    assert error_codes(bad_cursor) == ["BAD_USER_INPUT"]


async def test_only_an_admin_exports_or_erases_and_only_in_its_tenant(api: Api) -> None:
    created = await api.data(CREATE_CONTACT, {"i": {"lastName": "Geschuetzt"}})
    contact_id = created["createContact"]["id"]
    for role in ("member", "viewer"):
        assert error_codes(await api(EXPORT, {"c": contact_id}, role=role)) == ["FORBIDDEN"]
        assert error_codes(await api(ERASE, {"c": contact_id}, role=role)) == ["FORBIDDEN"]
    elsewhere = f"t-{uuid.uuid4().hex[:12]}"
    for operation in (EXPORT, ERASE):
        found = await api(operation, {"c": contact_id}, tenant=elsewhere)
        assert error_codes(found) == ["NOT_FOUND"]
        assert "erasedEventId" not in found["errors"][0]["extensions"]
    still = await api.data("query($c: ID!) { contact(id: $c) { lastName } }", {"c": contact_id})
    assert still["contact"] == {"lastName": "Geschuetzt"}


async def test_the_export_pages_its_events_and_says_so(
    settings: Settings, tokens: Tokens, tenant: str
) -> None:
    """A contact with more events than PERSONAL_EXPORT_MAX_EVENTS: each part says how many
    there are and where the next starts; the parts together are every event, once."""
    async with serving(settings.model_copy(update={"personal_export_max_events": 3})) as http:
        api = Api(http, tokens, tenant)
        created = await api.data(CREATE_CONTACT, {"i": {"lastName": "Vielfach"}})
        contact_id = created["createContact"]["id"]
        for n in range(6):
            await api.data(UPDATE_CONTACT, {"id": contact_id, "i": {"position": f"P{n}"}})
        parts: list[dict[str, Any]] = []
        after = None
        while len(parts) < 5:
            part = (await api.data(EXPORT, {"c": contact_id, "a": after}))["exportPersonalData"]
            parts.append(part)
            if part["eventsComplete"]:
                break
            after = part["eventsNextAfter"]
    assert [len(p["events"]) for p in parts] == [3, 3, 1]
    assert {p["eventsTotal"] for p in parts} == {7}
    assert [p["eventsComplete"] for p in parts] == [False, False, True]
    ids = [int(e["id"]) for p in parts for e in p["events"]]
    assert ids == sorted(set(ids)) and len(ids) == 7
    first = parts[0]["document"]["events"]
    assert (first["total"], first["included"], first["complete"]) == (7, 3, False)
    assert first["continueWithEventsAfter"] == parts[0]["eventsNextAfter"] == str(ids[2])
