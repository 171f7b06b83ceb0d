"""The Lexware crons: the voucher sync (every 4 hours) and the ERP push (every 30 minutes).

Both go tenant by tenant, each with the tenant's own key (or the server's). A Lexware outage
ends the run at once (the next run continues: the voucher cursor only moves when a tenant's
sync completed, and unpushed records stay unpushed); a refused key skips that tenant.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.data.tenancy import TenantScope, system_session
from app.errors import (
    AppError,
    BadUserInput,
    Conflict,
    LexwareNotConfigured,
    LexwareUnavailable,
    NotFound,
)
from app.lexware.connector import LexwareConnector
from app.services.common.tags import has_tag
from app.services.lexware.contacts import COMPANY_KIND, CONTACT_KIND, RecordKind
from app.services.lexware.push import push
from app.services.lexware.rows import LinkedRow
from app.services.lexware.vouchers import fetch_all
from models import Company, Contact, LexwareAccount

log = logging.getLogger(__name__)
BERLIN = ZoneInfo("Europe/Berlin")
CRON_WAIT_SECONDS = 300.0  # a cron may queue this long for the shared rate limit
ERP_TAG = "ERP"  # in any case: `erp` and `Erp` are pushed too


@dataclass
class RunReport:
    tenants: int = 0
    done: int = 0  # vouchers stored / records pushed
    skipped: list[uuid.UUID] = field(default_factory=list)  # key refused or missing
    stopped_early: bool = False  # Lexware unavailable: the rest waits for the next run

    def summary(self, done: str) -> str:
        """One line for people (run-job, the worker's job results): `done` names the work."""
        parts = [f"{self.tenants} tenant(s)", f"{self.done} {done}"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} tenant(s) skipped (Lexware key missing or refused)")
        if self.stopped_early:
            parts.append("stopped early: Lexware unavailable, the rest waits for the next run")
        return ", ".join(parts)


def _refused(error: LexwareUnavailable) -> bool:
    return error.details.get("status") in (401, 402, 403)


async def tenants_to_sync(
    sessions: async_sessionmaker[AsyncSession], server_key: bool
) -> list[uuid.UUID]:
    """Tenants with their own key, and (with a server key) every tenant with a linked record."""
    own = sa.select(col(LexwareAccount.tenant_id)).where(
        col(LexwareAccount.encrypted_api_key).is_not(None)
    )
    statements = [own]
    if server_key:
        for model in (Company, Contact):
            statements.append(
                sa.select(col(model.tenant_id)).where(
                    col(model.lexware_contact_id).is_not(None), col(model.deleted_at).is_(None)
                )
            )
    async with system_session(sessions) as session:
        found = await session.execute(sa.union(*statements))
        return sorted({row[0] for row in found})


class _Cursor(NamedTuple):
    synced_at: datetime | None  # the last completed sync's start
    key_set_at: datetime | None  # when the key it used was set


async def _cursor(scope: TenantScope) -> _Cursor:
    statement = sa.select(col(LexwareAccount.vouchers_synced_at), col(LexwareAccount.key_set_at))
    async with scope.reading() as reads:
        row = (await reads.execute(statement)).one_or_none()
    return _Cursor(None, None) if row is None else _Cursor(*row)


async def _advance(scope: TenantScope, started: datetime, cursor: _Cursor) -> None:
    """Move the cursor, unless the key changed while the sync ran: a new key (maybe another
    organization) has cleared the cursor, and its next sync must read everything."""
    unchanged = col(LexwareAccount.key_set_at).is_not_distinct_from(cursor.key_set_at)
    statement = (
        pg_insert(LexwareAccount)
        .values(scope.owned(vouchers_synced_at=started))
        .on_conflict_do_update(
            index_elements=["tenant_id"], set_={"vouchers_synced_at": started}, where=unchanged
        )
    )
    async with scope.writing() as uow:
        await uow.execute(statement)


async def sync_tenant_vouchers(connector: LexwareConnector, scope: TenantScope) -> int:
    """The tenant's vouchers changed since the last completed sync (all of them the first time).
    The filter works in whole Berlin days, so a day of overlap is read again (upserts)."""
    started = datetime.now(BERLIN)
    cursor = await _cursor(scope)
    filters = {}
    if cursor.synced_at is not None:
        since = cursor.synced_at.astimezone(BERLIN) - timedelta(days=1)
        filters["updatedDateFrom"] = since.date().isoformat()
    client = await connector.client(scope, max_wait=CRON_WAIT_SECONDS)
    stored = await fetch_all(client, scope, filters)
    await _advance(scope, started, cursor)
    return stored


# A Lexware answer we cannot use (bad data, a malformed voucher): that tenant waits.
UNUSABLE = (BadUserInput, NotFound, Conflict, KeyError, ValueError, TypeError)


async def _each_tenant(
    sessions: async_sessionmaker[AsyncSession],
    tenants: list[uuid.UUID],
    work: Callable[[TenantScope], Awaitable[int]],
    what: str,
    tolerated: tuple[type[Exception], ...] = (),
) -> RunReport:
    """Run `work` tenant by tenant: a missing or refused key skips the tenant, an outage ends
    the run (the rest waits for the next one)."""
    report = RunReport()
    for tenant_id in tenants:
        report.tenants += 1
        try:
            report.done += await work(TenantScope(tenant_id, None, sessions))
        except LexwareNotConfigured:
            report.skipped.append(tenant_id)
        except LexwareUnavailable as error:
            if not _refused(error):
                report.stopped_early = True
                log.warning("%s stopped: %s", what, error.message)
                return report
            report.skipped.append(tenant_id)
        except tolerated as error:
            log.warning("%s of tenant %s failed: %r", what, tenant_id, error)
            report.skipped.append(tenant_id)
    return report


async def sync_vouchers(
    connector: LexwareConnector, sessions: async_sessionmaker[AsyncSession]
) -> RunReport:
    tenants = await tenants_to_sync(sessions, connector.settings.lexware_api_key is not None)

    async def work(scope: TenantScope) -> int:
        return await sync_tenant_vouchers(connector, scope)

    return await _each_tenant(sessions, tenants, work, "voucher sync", UNUSABLE)


async def _stale_erp_records(
    scope: TenantScope, kind: RecordKind[LinkedRow], only: uuid.UUID | None = None
) -> list[uuid.UUID]:
    """Records tagged ERP (in any case) that changed since they were last pushed (or were
    never pushed)."""
    model = kind.entity.model
    statement = (
        sa.select(col(model.id))
        .where(
            has_tag(col(model.tag_keys), ERP_TAG),
            sa.or_(
                col(model.lexware_synced_at).is_(None),
                col(model.updated_at) > col(model.lexware_synced_at),
            ),
        )
        .order_by(col(model.updated_at), col(model.id))
    )
    if only is not None:
        statement = statement.where(col(model.id) == only)
    async with scope.reading() as reads:
        return list((await reads.execute(statement)).scalars())


async def push_tenant_erp_records(connector: LexwareConnector, scope: TenantScope) -> int:
    """Push each stale ERP record; one that Lexware refuses (bad data, a conflict) is logged
    and stays stale, the others go on. An outage ends the run."""
    await connector.api_key(scope)  # LEXWARE_NOT_CONFIGURED before reading anything
    pushed = 0
    for kind in (COMPANY_KIND, CONTACT_KIND):
        for record_id in await _stale_erp_records(scope, kind):
            try:
                await push(connector, scope, kind, record_id, max_wait=CRON_WAIT_SECONDS)
            except (LexwareUnavailable, LexwareNotConfigured):
                raise
            except AppError as error:
                log.warning("ERP push of %s %s refused: %s", kind.name, record_id, error.message)
                continue
            pushed += 1
    return pushed


async def push_erp_records(
    connector: LexwareConnector, sessions: async_sessionmaker[AsyncSession]
) -> RunReport:
    tenants = await _erp_tenants(sessions, connector.settings.lexware_api_key is not None)

    async def work(scope: TenantScope) -> int:
        return await push_tenant_erp_records(connector, scope)

    return await _each_tenant(sessions, tenants, work, "ERP push")


async def _erp_tenants(
    sessions: async_sessionmaker[AsyncSession], server_key: bool
) -> list[uuid.UUID]:
    async with system_session(sessions) as session:
        found = {row[0] for row in await session.execute(tenants_with_tag(ERP_TAG))}
        if not server_key:
            own = sa.select(col(LexwareAccount.tenant_id)).where(
                col(LexwareAccount.encrypted_api_key).is_not(None)
            )
            found &= {row[0] for row in await session.execute(own)}
    return sorted(found)


def tenants_with_tag(tag: str) -> sa.CompoundSelect[uuid.UUID]:
    """The tenants that have a company or contact with `tag`, across tenants (as `crm_system`,
    whose policy admits every row, so the GIN index on `tag_keys` answers it)."""
    tagged = [
        sa.select(col(model.tenant_id)).where(
            has_tag(col(model.tag_keys), tag), col(model.deleted_at).is_(None)
        )
        for model in (Company, Contact)
    ]
    return sa.union(*tagged)


async def push_if_stale(
    connector: LexwareConnector,
    scope: TenantScope,
    kind: RecordKind[LinkedRow],
    record_id: uuid.UUID,
) -> bool:
    """Push one record if it is tagged ERP and changed since its last push."""
    if not await _stale_erp_records(scope, kind, record_id):
        return False
    try:
        await push(connector, scope, kind, record_id, max_wait=CRON_WAIT_SECONDS)
    except (LexwareNotConfigured, Conflict):  # no key, or a push of it is running already
        return False
    return True
