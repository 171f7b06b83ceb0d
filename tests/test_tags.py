"""Tags keep their spelling and compare ignoring case: list filters (executor and compiled
path), duplicates within one record, the ERP rule (cron and push-after-change), the index."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.services.tags import has_tag
from app.tenancy import system_session
from jobs.lexware import erp_push, erp_push_record
from models import Company, Contact
from tests.conftest import Api, StatementCounter
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
    assert any("tag_keys @>" in statement for statement in compiled_sql.statements)


async def test_one_tag_in_two_cases_is_one_tag_the_first_spelling_stays(api: Api) -> None:
    created = await company(
        api, "Doppelt", ["ERP", "Key Account", " erp ", "key account", "Übersee", "ÜBERSEE"]
    )
    assert created["tags"] == ["ERP", "Key Account", "Übersee"]
    updated = await api.data(UPDATE, {"id": created["id"], "i": {"tags": ["b", "A", "B", "a"]}})
    assert updated["updateCompany"]["tags"] == ["b", "A"]
    person = await api.data(CONTACT, {"i": {"lastName": "Doppelt", "tags": ["Vip", "VIP"]}})
    assert person["createContact"]["tags"] == ["Vip"]


async def test_the_tag_condition_can_use_the_lowercased_tag_index(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The plan of the services' own condition: an index scan on `tag_keys` when PostgreSQL
    is told to avoid a sequential scan (tables this small would be read whole).
    As the table owner (crons, across tenants); a tenant's role reads through row-level
    security, where a non-leakproof `@>` is applied as a filter instead (see README)."""
    for model, index in ((Company, "ix_company_tag_keys"), (Contact, "ix_contact_tag_keys")):
        statement = sa.select(col(model.id)).where(has_tag(col(model.tag_keys), "ERP"))
        sql = str(statement.compile(compile_kwargs={"literal_binds": True}))
        async with system_session(sessions) as session:
            await session.execute(sa.text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join((await session.execute(sa.text(f"EXPLAIN {sql}"))).scalars())
        assert f"Bitmap Index Scan on {index}" in plan, plan


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
