"""What must not go wrong with Lexware: duplicates, lost edits, one bad record, shared keys."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from pydantic import SecretStr

from app.data import records
from app.data.tenancy import TenantScope
from app.locks import LockLost, exclusive
from app.services.lexware.contacts import COMPANY_KIND, store_link, synced_of
from app.services.lexware.sync import push_erp_records
from app.settings import Settings
from tests.conftest import error_codes, serving
from tests.lexware_fixtures import ACME, Lexware
from tests.test_lexware_client import SEARCH
from tests.test_lexware_contacts import IMPORT, PUSH, SYNC, company


async def scope_of(lexware: Lexware) -> TenantScope:
    me = await lexware.api.data("{ me { tenant { id } user { id } } }")
    runtime = lexware.app.state.runtime
    tenant, user = me["me"]["tenant"]["id"], me["me"]["user"]["id"]
    return TenantScope(uuid.UUID(tenant), uuid.UUID(user), runtime.sessions)


async def test_one_refused_record_does_not_stop_the_erp_push(lexware: Lexware) -> None:
    acme = lexware.seed(ACME)
    bad = (await lexware.api.data(IMPORT, {"l": acme["id"]}))["importCompanyFromLexware"]
    await lexware.api.data(
        'mutation($id: ID!) { updateCompany(id: $id, input: {tags: ["ERP"], taxId: "21/234/56789"}) { id } }',
        {"id": bad["id"]},
    )
    lexware.fake.edit_in_web_app(
        lexware.key, acme["id"], {"xRechnung": {"buyerReference": "04011000-1234512345-35"}}
    )
    await company(lexware, name="Gesund GmbH", tags=["ERP"])
    runtime = lexware.app.state.runtime
    report = await push_erp_records(runtime.lexware, runtime.sessions)
    assert not report.stopped_early
    names = {
        c.data["company"]["name"] for c in lexware.fake.organization(lexware.key).contacts.values()
    }
    assert "Gesund GmbH" in names
    assert [r.status for r in lexware.calls("PUT")] == [406]  # the bad one was refused


async def test_pushes_of_one_record_at_the_same_time_create_one_contact(lexware: Lexware) -> None:
    crm = await company(lexware, name="Doppel GmbH")
    results = await asyncio.gather(*(lexware.api(PUSH, {"id": crm["id"]}) for _ in range(3)))
    assert sum("errors" not in r for r in results) >= 1
    assert {c for r in results for c in error_codes(r)} <= {"CONFLICT"}
    assert len(lexware.fake.organization(lexware.key).contacts) == 1


async def test_an_unconfirmed_create_is_looked_for_before_the_next_one(lexware: Lexware) -> None:
    crm = await company(lexware, name="Unbestätigt GmbH", emails=[{"email": "u@b.de"}])
    lexware.fake.fail_next(504)  # the answer is lost and the write did not happen
    lost = await lexware.api(PUSH, {"id": crm["id"]})
    assert error_codes(lost) == ["LEXWARE_UNAVAILABLE"]
    assert len(lexware.calls("POST")) == 1  # not sent twice
    lexware.fake.fail_next(504, after_write=True)  # this time it happened, the answer is lost
    again = await lexware.api(PUSH, {"id": crm["id"]})
    assert error_codes(again) == ["LEXWARE_UNAVAILABLE"] or "errors" not in again
    final = (await lexware.api.data(PUSH, {"id": crm["id"]}))["pushCompanyToLexware"]
    contacts = lexware.fake.organization(lexware.key).contacts
    assert list(contacts) == [final["lexwareContactId"]]


async def test_an_edit_made_while_a_push_ran_is_still_to_be_pushed(lexware: Lexware) -> None:
    acme = lexware.seed(ACME)
    crm = (await lexware.api.data(IMPORT, {"l": acme["id"]}))["importCompanyFromLexware"]
    scope = await scope_of(lexware)
    pushed_state = await records.get_row(scope, COMPANY_KIND.entity, uuid.UUID(crm["id"]))
    synced = await synced_of(scope, COMPANY_KIND, pushed_state.id)
    assert synced is not None
    await lexware.api.data(
        'mutation($id: ID!) { updateCompany(id: $id, input: {name: "Während"}) { id } }',
        {"id": crm["id"]},
    )
    row = await store_link(
        scope,
        COMPANY_KIND,
        pushed_state.id,
        pushed_state.lexware_contact_id,
        2,
        ("lexware_pushed",),
        synced,
        pushed_state,
    )
    assert row.updated_at > row.lexware_synced_at  # still stale: the cron pushes it again
    version = await lexware.api.data(
        "query($id: ID!) { company(id: $id) { version } }", {"id": crm["id"]}
    )
    assert version["company"]["version"] == row.version  # the bookkeeping kept the user's version


async def test_push_keeps_what_lexware_has_and_the_crm_lacks_and_sync_clears_nothing(
    lexware: Lexware,
) -> None:
    acme = lexware.seed(ACME)
    crm = (await lexware.api.data(IMPORT, {"l": acme["id"]}))["importCompanyFromLexware"]
    await lexware.api.data(
        "mutation($id: ID!) { updateCompany(id: $id, input: {billingAddress: null, phones: []}) { id } }",
        {"id": crm["id"]},
    )
    await lexware.api.data(PUSH, {"id": crm["id"]})
    stored = lexware.fake.contact(lexware.key, acme["id"])
    assert stored is not None and stored["addresses"]["billing"][0]["city"] == "Stuttgart"
    assert stored["phoneNumbers"] == {"business": ["+49 711 123456"]}
    lexware.fake.edit_in_web_app(lexware.key, acme["id"], {"company": {"vatRegistrationId": None}})
    synced = (await lexware.api.data(SYNC, {"id": crm["id"]}))["syncCompanyFromLexware"]
    assert synced["vatId"] == "DE123456788"


async def test_the_server_key_serves_only_its_tenant_when_bound(
    settings: Settings, fake_lexware: tuple[str, object], tokens: object
) -> None:
    url, fake = fake_lexware
    key = f"key-{uuid.uuid4().hex}"
    fake.add_api_key(key)  # type: ignore[attr-defined]
    own = settings.model_copy(
        update={
            "lexware_base_url": url,
            "lexware_api_key": SecretStr(key),
            "lexware_api_key_tenant": "the-owner",
        }
    )
    async with serving(own) as http:
        from tests.conftest import Api

        owner, other = (
            Api(http, tokens, "the-owner"),
            Api(http, tokens, f"x-{uuid.uuid4().hex[:6]}"),
        )  # type: ignore[arg-type]
        assert "errors" not in await owner(SEARCH, {"name": "Acme"})
        assert error_codes(await other(SEARCH, {"name": "Acme"})) == ["LEXWARE_NOT_CONFIGURED"]


async def test_a_lost_lock_stops_its_holder(lexware: Lexware) -> None:
    redis = lexware.app.state.runtime.redis

    async def holder() -> None:
        async with exclusive(redis, "lost-probe", ttl=0.6) as held:
            assert held
            await redis.delete("crm:lock:lost-probe")  # as if it had expired and moved on
            await asyncio.sleep(5)

    with pytest.raises(LockLost):
        await asyncio.wait_for(holder(), timeout=4)
