"""The Lexware cron jobs, once at a time across workers, and the push soon after an update."""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any

from redis.asyncio import Redis

from app.data.tenancy import TenantScope
from app.events.message import BadMessage, CrmEventMessage
from app.locks import exclusive
from app.services.lexware import sync as lexware_sync
from app.services.lexware.contacts import COMPANY_KIND, CONTACT_KIND, RecordKind
from app.services.lexware.rows import LinkedRow
from app.supervision import Backoff
from app.telemetry.record import request_id_set
from jobs.request_ids import job_request_id

log = logging.getLogger(__name__)
KINDS: dict[str, RecordKind[LinkedRow]] = {"company": COMPANY_KIND, "contact": CONTACT_KIND}
PUSH_DELAY_SECONDS = 5  # several quick edits of a record make one push


async def voucher_sync(ctx: dict[str, Any]) -> str:
    """Every tenant's Lexware vouchers, incrementally (every 4 hours)."""
    async with exclusive(ctx["redis"], "lexware-voucher-sync") as held:
        if not held:
            return "already running elsewhere"
        report = await lexware_sync.sync_vouchers(ctx["lexware"], ctx["sessions"])
        return report.summary("voucher(s) stored")


async def erp_push(ctx: dict[str, Any]) -> str:
    """Companies and contacts tagged ERP that changed since their last push (every 30 min)."""
    async with exclusive(ctx["redis"], "lexware-erp-push") as held:
        if not held:
            return "already running elsewhere"
        report = await lexware_sync.push_erp_records(ctx["lexware"], ctx["sessions"])
        return report.summary("record(s) pushed")


async def erp_push_record(
    ctx: dict[str, Any],
    tenant_id: str,
    kind: str,
    record_id: str,
    request_id: str | None = None,
    traceparent: str | None = None,
) -> bool:
    """One record, soon after it changed (when it is tagged ERP and not pushed since). Its log
    lines carry the id of the request whose change queued it; `traceparent`: the trace of
    that change, which the job's span joins (worker.py)."""
    with request_id_set(request_id or job_request_id("erp_push_record")):
        scope = TenantScope(uuid.UUID(tenant_id), None, ctx["sessions"])
        pushed = await lexware_sync.push_if_stale(
            ctx["lexware"], scope, KINDS[kind], uuid.UUID(record_id)
        )
        log.info("ERP push of %s %s: %s", kind, record_id, "sent" if pushed else "up to date")
        return pushed


async def enqueue_erp_pushes(redis: Redis) -> None:
    """Follows company and contact changes on Redis and queues their push (one job per record
    at a time: the job id is the record). Missed events are the 30-minute cron's work."""
    backoff = Backoff(log, "ERP push listener", first=0.5)
    while True:
        try:
            async with redis.pubsub() as pubsub:
                await pubsub.psubscribe("crm.company.*", "crm.contact.*")
                backoff.succeeded()
                async for message in pubsub.listen():
                    if message["type"] == "pmessage":
                        await _enqueue(redis, message["data"])
        except Exception as error:  # Redis away, or a bug: the listener must go on
            backoff.note(error)
        await backoff.wait()  # also after a subscription that ended by itself


async def _enqueue(redis: Any, data: bytes) -> None:
    with contextlib.suppress(BadMessage):
        event = CrmEventMessage.from_json(data)
        # A merge changes its survivor as an update does (app/services/merges).
        if event.type.rsplit(".", 1)[-1] in ("created", "updated", "merged"):
            trace = {"traceparent": event.traceparent} if event.traceparent else {}
            await redis.enqueue_job(
                "erp_push_record",
                str(event.tenant_id),
                event.entity,
                str(event.entity_id),
                _job_id=f"erp-push:{event.entity_id}",
                _defer_by=PUSH_DELAY_SECONDS,
                request_id=event.request_id,
                **trace,
            )
