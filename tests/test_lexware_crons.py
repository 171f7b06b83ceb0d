"""The Lexware crons: voucher sync and ERP push, once at a time, stopping on an outage."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from arq import create_pool
from arq.connections import ArqRedis
from arq.jobs import Job, JobDef, JobStatus

from app.data.tenancy import TenantScope
from app.locks import exclusive
from app.redis import arq_redis_settings
from app.services.lexware import sync as lexware_sync
from app.services.lexware.sync import sync_tenant_vouchers
from app.settings import Settings
from jobs.lexware import enqueue_erp_pushes, erp_push, erp_push_record, voucher_sync
from tests.conftest import Servers
from tests.lexware_fixtures import ACME, SET_KEY, Lexware
from tests.test_lexware_contacts import IMPORT, company

VOUCHERS = (
    "query($id: ID!) { company(id: $id) { lexwareVouchers(first: 50) { edges { node {"
    " lexwareVoucherId } } } } }"
)


async def queued_job(pool: ArqRedis, job_id: str, queue: str) -> JobDef | None:
    """The job once the ERP push listener has queued it (at most 10 s)."""
    job = Job(job_id, pool, _queue_name=queue)
    async with asyncio.timeout(10):
        while True:
            if await job.status() is not JobStatus.not_found:
                break
            await asyncio.sleep(0.05)
    return await job.info()


def worker_context(lexware: Lexware) -> dict[str, Any]:
    runtime = lexware.app.state.runtime
    return {"redis": runtime.redis, "sessions": runtime.sessions, "lexware": runtime.lexware}


async def imported(lexware: Lexware) -> tuple[str, str]:
    acme = lexware.seed(ACME)
    crm = (await lexware.api.data(IMPORT, {"l": acme["id"]}))["importCompanyFromLexware"]
    return crm["id"], acme["id"]


async def shown(lexware: Lexware, company_id: str) -> set[str]:
    found = await lexware.api.data(VOUCHERS, {"id": company_id})
    return {e["node"]["lexwareVoucherId"] for e in found["company"]["lexwareVouchers"]["edges"]}


async def test_voucher_sync_fills_the_cache_then_reads_only_changes(lexware: Lexware) -> None:
    company_id, lexware_id = await imported(lexware)
    old = datetime.now(UTC) - timedelta(days=40)
    first = [
        lexware.fake.seed_voucher(
            lexware.key, {"contactId": lexware_id, "voucherDate": old.isoformat()}
        )
        for _ in range(3)
    ]
    ctx = worker_context(lexware)
    report = await voucher_sync(ctx)
    assert "voucher(s) stored" in report and "stopped early" not in report
    assert await shown(lexware, company_id) == {v["id"] for v in first}
    fresh = lexware.fake.seed_voucher(lexware.key, {"contactId": lexware_id})
    await voucher_sync(ctx)
    assert await shown(lexware, company_id) == {v["id"] for v in [*first, fresh]}
    pages = [r for r in lexware.calls("GET") if r.path == "/v1/voucherlist"]
    assert len(pages) == 2  # one page per run
    # Incremental: a run now reads only what changed since the last one (the fresh voucher,
    # within the day of overlap), not the old three.
    me = await lexware.api.data("{ me { tenant { id } } }")
    runtime = lexware.app.state.runtime
    scope = TenantScope(uuid.UUID(me["me"]["tenant"]["id"]), None, runtime.sessions)
    assert await sync_tenant_vouchers(runtime.lexware, scope) == 1


async def test_after_a_key_change_the_next_sync_reads_every_voucher_again(
    lexware: Lexware,
) -> None:
    """A new key may reach another organization, whose vouchers the old cursor would skip."""
    company_id, lexware_id = await imported(lexware)
    ctx = worker_context(lexware)
    await voucher_sync(ctx)  # the cursor is now today
    long_ago = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    unseen = lexware.fake.seed_voucher(
        lexware.key, {"contactId": lexware_id, "voucherDate": long_ago, "updatedDate": long_ago}
    )
    await voucher_sync(ctx)
    assert await shown(lexware, company_id) == set()  # older than the cursor: skipped
    second_key = f"key-{uuid.uuid4().hex}"
    lexware.fake.add_api_key(second_key, lexware.fake.add_api_key(lexware.key))
    status = await lexware.api.data(SET_KEY, {"k": second_key})
    assert status["setLexwareApiKey"]["working"] is True
    await voucher_sync(ctx)
    assert await shown(lexware, company_id) == {unseen["id"]}


async def test_a_key_changed_while_a_sync_runs_still_makes_the_next_sync_read_everything(
    lexware: Lexware, monkeypatch: pytest.MonkeyPatch
) -> None:
    company_id, lexware_id = await imported(lexware)
    ctx = worker_context(lexware)
    await voucher_sync(ctx)
    long_ago = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    unseen = lexware.fake.seed_voucher(
        lexware.key, {"contactId": lexware_id, "voucherDate": long_ago, "updatedDate": long_ago}
    )
    me = uuid.UUID((await lexware.api.data("{ me { tenant { id } } }"))["me"]["tenant"]["id"])
    second_key = f"key-{uuid.uuid4().hex}"
    lexware.fake.add_api_key(second_key, lexware.fake.add_api_key(lexware.key))
    fetch_all = lexware_sync.fetch_all

    async def key_changes_meanwhile(client: Any, scope: TenantScope, filters: Any) -> int:
        stored = await fetch_all(client, scope, filters)
        if scope.tenant_id == me:  # after the old key's (incremental) read
            await lexware.api.data(SET_KEY, {"k": second_key})
        return stored

    monkeypatch.setattr(lexware_sync, "fetch_all", key_changes_meanwhile)
    await voucher_sync(ctx)
    assert await shown(lexware, company_id) == set()
    monkeypatch.undo()
    await voucher_sync(ctx)
    assert await shown(lexware, company_id) == {unseen["id"]}


async def test_a_cron_runs_once_at_a_time(lexware: Lexware) -> None:
    await imported(lexware)
    ctx = worker_context(lexware)
    async with exclusive(ctx["redis"], "lexware-voucher-sync") as held:
        assert held
        assert await voucher_sync(ctx) == "already running elsewhere"
    results = await asyncio.gather(voucher_sync(ctx), voucher_sync(ctx))
    assert results.count("already running elsewhere") <= 1


async def test_the_lock_is_renewed_while_its_holder_runs(lexware: Lexware) -> None:
    redis = lexware.app.state.runtime.redis
    async with exclusive(redis, "renewal-probe", ttl=0.6) as held:
        assert held
        await asyncio.sleep(1.5)  # more than twice the expiry
        async with exclusive(redis, "renewal-probe", ttl=0.6) as second:
            assert not second
    async with exclusive(redis, "renewal-probe", ttl=0.6) as after_release:
        assert after_release


async def test_an_outage_stops_the_run_and_the_next_run_catches_up(lexware: Lexware) -> None:
    company_id, lexware_id = await imported(lexware)
    voucher = lexware.fake.seed_voucher(lexware.key, {"contactId": lexware_id})
    ctx = worker_context(lexware)
    lexware.fake.fail_next(503, count=50)
    before = len(lexware.fake.requests)  # every tenant's: the cron goes through all of them
    report = await voucher_sync(ctx)
    lexware.fake.clear_failures()
    assert "stopped early: Lexware unavailable" in report
    statuses = [r.status for r in lexware.fake.requests[before:]]
    # Tenants of earlier test modules hold keys this fake refuses (401: skipped); then one
    # call's three attempts meet the outage, and the run stops.
    assert statuses[-3:] == [503, 503, 503] and set(statuses[:-3]) <= {401}
    assert await shown(lexware, company_id) == set()
    await voucher_sync(ctx)
    assert await shown(lexware, company_id) == {voucher["id"]}


async def test_erp_push_sends_tagged_records_that_changed(lexware: Lexware) -> None:
    tagged = await company(lexware, name="ERP Kunde GmbH", tags=["ERP"])
    untagged = await company(lexware, name="Nur CRM GmbH")
    ctx = worker_context(lexware)
    await erp_push(ctx)
    org = lexware.fake.organization(lexware.key)
    names = sorted(c.data["company"]["name"] for c in org.contacts.values())
    assert names == ["ERP Kunde GmbH"]
    posts = len(lexware.calls("POST"))
    await erp_push(ctx)  # nothing changed since
    assert len(lexware.calls("POST")) == posts and not lexware.calls("PUT")
    await lexware.api.data(
        'mutation($id: ID!) { updateCompany(id: $id, input: {name: "ERP Kunde AG"}) { id } }',
        {"id": tagged["id"]},
    )
    await erp_push(ctx)
    assert [r.status for r in lexware.calls("PUT")] == [200]
    assert sorted(c.data["company"]["name"] for c in org.contacts.values()) == ["ERP Kunde AG"]
    assert untagged["lexwareContactId"] is None


async def test_an_erp_record_is_queued_for_push_right_after_it_changes(
    lexware: Lexware, servers: Servers, settings: Settings
) -> None:
    pool = await create_pool(
        arq_redis_settings(servers.redis_url, settings), default_queue_name="test-erp"
    )
    listener = asyncio.create_task(enqueue_erp_pushes(pool))
    try:
        await asyncio.sleep(0.3)
        tagged = await company(lexware, name="Sofort GmbH", tags=["ERP"])
        info = await queued_job(pool, f"erp-push:{tagged['id']}", "test-erp")
        assert info is not None and info.function == "erp_push_record"
        ctx = worker_context(lexware)
        assert await erp_push_record(ctx, *info.args) is True
        assert await erp_push_record(ctx, *info.args) is False  # pushed: nothing left to do
    finally:
        listener.cancel()
        await pool.aclose()
    org = lexware.fake.organization(lexware.key)
    assert [c.data["company"]["name"] for c in org.contacts.values()] == ["Sofort GmbH"]
