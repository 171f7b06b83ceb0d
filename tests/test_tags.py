"""Tags keep their spelling and compare ignoring case by one key (app.services.common.tags.tag_key,
Unicode case folding made in Python): list filters (executor and compiled path), duplicates
within one record, the ERP rule (cron and push-after-change), the index, the database's
locale (it plays no part), the migration that keys existing tags."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.data.tenancy import system_session
from app.migrations import alembic_config, upgrade_to_head
from app.services.lexware.sync import tenants_with_tag
from app.settings import Settings
from jobs.lexware import erp_push, erp_push_record
from models import Company
from models.tags import tag_keys
from tests.conftest import Api, Servers, StatementCounter, Tokens, _asyncpg_dsn, serving
from tests.factories import add_row, new_scope
from tests.lexware_fixtures import Lexware
from tests.test_lexware_crons import worker_context

COMPANY = "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id tags } }"
CONTACT = "mutation($i: CreateContactInput!) { createContact(input: $i) { id tags } }"
UPDATE = (
    "mutation($id: ID!, $i: UpdateCompanyInput!) { updateCompany(id: $id, input: $i) { tags } }"
)
COMPANIES = """query($tag: String) { companies(filter: {tag: $tag}, orderBy: {field: NAME}) {
  totalCount edges { node { name tags } } } }"""
CONTACTS = """query($tag: String) { contacts(filter: {tag: $tag}, orderBy: {field: NAME}) {
  totalCount edges { node { lastName tags } } } }"""


async def company(api: Api, name: str, tags: list[str]) -> dict[str, Any]:
    created: dict[str, Any] = (await api.data(COMPANY, {"i": {"name": name, "tags": tags}}))[
        "createCompany"
    ]
    return created


async def test_a_tag_filter_matches_any_case_on_both_execution_paths(
    api: Api, compiled_sql: StatementCounter
) -> None:
    await company(api, "Groß", ["ERP"])
    await company(api, "Klein", ["erp", "Newsletter"])
    await company(api, "Mittel", ["Erpel", "Übersee"])
    for person, tags in (("Meier", ["Vip"]), ("Schulz", ["VIP"]), ("Roth", [])):
        await api.data(CONTACT, {"i": {"lastName": person, "tags": tags}})

    for spelled in ("ERP", "erp", "eRp"):
        found = (await api.data(COMPANIES, {"tag": spelled}))["companies"]
        assert [e["node"]["name"] for e in found["edges"]] == ["Groß", "Klein"]
        assert found["totalCount"] == 2
    shown = (await api.data(COMPANIES, {"tag": "newsletter"}))["companies"]["edges"]
    assert shown == [{"node": {"name": "Klein", "tags": ["erp", "Newsletter"]}}]  # as spelled
    abroad = (await api.data(COMPANIES, {"tag": "ÜBERSEE"}))["companies"]["edges"]
    assert [e["node"]["name"] for e in abroad] == ["Mittel"]  # beyond ASCII too
    people = (await api.data(CONTACTS, {"tag": "vip"}))["contacts"]["edges"]
    assert [e["node"]["lastName"] for e in people] == ["Meier", "Schulz"]
    # The suite runs COMPILED_EXECUTION=verify: these pages also ran compiled, and agreed
    # (the autouse `compiled_agrees` fixture fails the test otherwise).
    # ...through the tag rows (models/record_tags.py: an index condition under the policies).
    assert any("company_tag.tag_key =" in statement for statement in compiled_sql.statements)


async def test_one_tag_in_two_cases_is_one_tag_the_first_spelling_stays(api: Api) -> None:
    created = await company(
        api, "Doppelt", ["ERP", "Key Account", " erp ", "key account", "Übersee", "ÜBERSEE"]
    )
    assert created["tags"] == ["ERP", "Key Account", "Übersee"]
    updated = await api.data(UPDATE, {"id": created["id"], "i": {"tags": ["b", "A", "B", "a"]}})
    assert updated["updateCompany"]["tags"] == ["b", "A"]
    person = await api.data(CONTACT, {"i": {"lastName": "Doppelt", "tags": ["Vip", "VIP"]}})
    assert person["createContact"]["tags"] == ["Vip"]


async def test_tags_compare_by_unicode_case_folding_on_both_execution_paths(api: Api) -> None:
    """Not PostgreSQL's lower() (ΣΟΦΟΣ would not find σοφος, ß would not be ss) but one key,
    the same for the filter as for the tags: each tag is found by each of its spellings."""
    await company(api, "Sofos", ["ΣΟΦΟΣ"])
    await company(api, "Straße", ["Königsstraße"])
    await company(api, "Zerlegt", ["U\u0308bersee"])  # Ü typed as U + combining diaeresis
    await company(api, "Punkt", ["İstanbul"])  # folds to i + combining dot: not "istanbul"
    await company(api, "Ohne Punkt", ["istanbul"])
    found = {
        "σοφος": ["Sofos"],
        "Σοφοσ": ["Sofos"],
        "KÖNIGSSTRASSE": ["Straße"],
        "königsstraße": ["Straße"],
        "ÜBERSEE": ["Zerlegt"],
        "İSTANBUL": ["Punkt"],
        "i\u0307stanbul": ["Punkt"],
        "ISTANBUL": ["Ohne Punkt"],
    }
    for tag, names in found.items():
        edges = (await api.data(COMPANIES, {"tag": tag}))["companies"]["edges"]
        assert [e["node"]["name"] for e in edges] == names, tag
    # COMPILED_EXECUTION=verify: each page also ran compiled and agreed (`compiled_agrees`).


async def test_spellings_that_are_one_tag_by_that_key_are_one_tag(api: Api) -> None:
    created = await company(
        api, "Einmal", ["Straße", "STRASSE", "ΣΟΦΟΣ", "σοφος", "U\u0308bersee", "Übersee"]
    )
    assert created["tags"] == ["Straße", "ΣΟΦΟΣ", "U\u0308bersee"]
    both = await company(api, "Zweimal", ["İstanbul", "istanbul"])  # two keys, two tags
    assert both["tags"] == ["İstanbul", "istanbul"]


async def test_a_write_of_tags_without_their_keys_is_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A write path that forgot `tag_keys` (the services write them in
    row_values.stored_values) fails instead of storing a record no tag filter finds."""
    scope = await new_scope(sessions)
    with pytest.raises(IntegrityError, match="ck_company_tag_keys"):
        await add_row(scope, Company, name="Vergessen", tags=["ERP"])


async def test_the_crons_tag_lookup_uses_the_tag_key_index(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The plan of the ERP cron's tenant query: index scans on `tag_keys` when PostgreSQL is
    told to avoid a sequential scan (tables this small would be read whole). As the table
    owner (crons, across tenants); a tenant's role reads through row-level security, where a
    non-leakproof `@>` is applied as a filter instead (see README)."""
    statement = tenants_with_tag("ERP").compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    assert "tag_keys @> ARRAY['erp']" in str(statement)
    async with system_session(sessions) as session:
        await session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join((await session.execute(sa.text(f"EXPLAIN {statement}"))).scalars())
    for index in ("ix_company_tag_keys", "ix_contact_tag_keys"):
        assert f"Bitmap Index Scan on {index}" in plan, plan


@asynccontextmanager
async def database_with_locale(servers: Servers, locale: str) -> AsyncIterator[str]:
    """A fresh database whose collation and character classes are `locale`, migrated."""
    name = f"crm_locale_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    try:
        await admin.execute(
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
            f"LC_COLLATE '{locale}' LC_CTYPE '{locale}'"
        )
        base, _, query = servers.database_url.partition("?")
        url = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
        await asyncio.to_thread(upgrade_to_head, url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_tags_compare_the_same_whatever_the_databases_locale(
    settings: Settings, servers: Servers, tokens: Tokens, tenant: str
) -> None:
    """Under the locale C, PostgreSQL's lower('ÜBERSEE') is 'Übersee': no key may come from
    the database."""
    async with (
        database_with_locale(servers, "C") as url,
        serving(settings.model_copy(update={"database_url": url})) as http,
    ):
        api = Api(http, tokens, tenant)
        await company(api, "Übersee GmbH", ["ÜBERSEE"])
        await company(api, "Sofos", ["σοφος"])
        for tag, name in (("übersee", "Übersee GmbH"), ("ΣΟΦΟΣ", "Sofos")):
            edges = (await api.data(COMPANIES, {"tag": tag}))["companies"]["edges"]
            assert [e["node"]["name"] for e in edges] == [name]


async def test_the_migration_keys_existing_tags_as_the_server_does(
    scratch_database_url: str,
) -> None:
    """0006 on a database at 0005 with tags: keyed by the server's fold (computed in Python,
    not SQL lower()), tags that are one by it merged, the first spelling kept, no edit."""
    config = alembic_config(scratch_database_url)
    await asyncio.to_thread(command.upgrade, config, "0005")
    spelled = ["ERP", "erp", "Straße", "STRASSE", "ΣΟΦΟΣ", "σοφος", "Vip"]
    db = await asyncpg.connect(_asyncpg_dsn(scratch_database_url))
    try:
        tenant = await db.fetchval("INSERT INTO tenant (slug, name) VALUES ('m', 'm') RETURNING id")
        insert = "INSERT INTO company (tenant_id, name, tags) VALUES ($1, $2, $3) RETURNING id"
        tagged = await db.fetchval(insert, tenant, "Getaggt", spelled)
        untagged = await db.fetchval(insert, tenant, "Ohne", [])
        person = await db.fetchval(
            "INSERT INTO contact (tenant_id, last_name, tags) VALUES ($1, 'P', $2) RETURNING id",
            tenant,
            ["Vip", "VIP", "Übersee", "U\u0308BERSEE"],  # the last Ü in two characters
        )
        edits = "SELECT id, version, updated_at FROM {} ORDER BY id"
        before = [await db.fetch(edits.format(t)) for t in ("company", "contact")]
        await asyncio.to_thread(command.upgrade, config, "head")
        stored = "SELECT tags, tag_keys FROM {} WHERE id = $1"
        companies = {
            i: tuple(await db.fetchrow(stored.format("company"), i)) for i in (tagged, untagged)
        }
        contact = tuple(await db.fetchrow(stored.format("contact"), person))
        assert [await db.fetch(edits.format(t)) for t in ("company", "contact")] == before
        await asyncio.to_thread(command.downgrade, config, "0005")
        kept = await db.fetchval("SELECT tags FROM company WHERE id = $1", tagged)
        await asyncio.to_thread(command.upgrade, config, "head")
    finally:
        await db.close()
    merged = ["ERP", "Straße", "ΣΟΦΟΣ", "Vip"]
    assert companies[tagged] == (merged, ["erp", "strasse", "σοφοσ", "vip"])
    assert companies[tagged][1] == tag_keys(merged)  # the server's keys
    assert companies[untagged] == ([], [])
    assert contact == (["Vip", "Übersee"], ["vip", "übersee"])
    assert kept == merged  # a downgrade keeps the merged tags


async def test_records_tagged_erp_in_any_case_are_pushed(lexware: Lexware) -> None:
    """By the 30-minute cron (which finds the tenant by its tagged records, then the stale
    ones) and by the push soon after a change (`erp_push_record`, queued by the listener)."""
    lower = await lexware.api.data(COMPANY, {"i": {"name": "Klein erp GmbH", "tags": ["erp"]}})
    await lexware.api.data(CONTACT, {"i": {"lastName": "Kunde", "tags": ["Erp"]}})
    await lexware.api.data(COMPANY, {"i": {"name": "Ohne GmbH", "tags": ["Erpel"]}})
    ctx = worker_context(lexware)

    await erp_push(ctx)

    org = lexware.fake.organization(lexware.key)
    pushed = sorted(
        c.data["company"]["name"] if "company" in c.data else c.data["person"]["lastName"]
        for c in org.contacts.values()
    )
    assert pushed == ["Klein erp GmbH", "Kunde"]
    changed = await lexware.api.data(
        UPDATE, {"id": lower["createCompany"]["id"], "i": {"tags": ["eRp", "Neu"]}}
    )
    assert changed["updateCompany"]["tags"] == ["eRp", "Neu"]
    tenant_id = (await lexware.api.data("{ me { tenant { id } } }"))["me"]["tenant"]["id"]
    record = (tenant_id, "company", lower["createCompany"]["id"])
    assert await erp_push_record(ctx, *record) is True
    assert await erp_push_record(ctx, *record) is False  # pushed: nothing left to do
