"""Activity due-soon reminders: one `crm.activity.due_soon` event per activity and due date.

Exactly once without a lock to trust: each tenant's reminders are claimed by one UPDATE that
sets `reminded_due_at = due_at` where it differs, in the same transaction as their events. A
second worker (or an overlapping run) waits on the same rows and, once the first commits,
finds nothing left to claim. Moving the due date re-arms the reminder (the two differ again);
completing the activity disarms it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.data.changes import camel, jsonable
from app.data.tenancy import TenantScope, system_session
from models import Activity

_REMINDED = ("due_at", "subject", "type", "assignee_id", "contact_id", "company_id", "deal_id")


def _due_soon(window: timedelta) -> list[sa.ColumnElement[bool]]:
    due_at = col(Activity.due_at)
    return [
        # Not trashed: the tenant's filter says so for the claim; the tenants' query across
        # tenants (crm_system, no filter) must say it itself.
        col(Activity.deleted_at).is_(None),
        col(Activity.completed_at).is_(None),
        due_at > sa.func.now(),
        due_at <= sa.func.now() + window,
        col(Activity.reminded_due_at).is_distinct_from(due_at),
    ]


async def _tenants_with_due_activities(
    sessions: async_sessionmaker[AsyncSession], window: timedelta
) -> list[uuid.UUID]:
    statement = sa.select(col(Activity.tenant_id)).where(*_due_soon(window)).distinct()
    async with system_session(sessions) as session:
        return list((await session.execute(statement)).scalars())


async def remind_tenant(scope: TenantScope, window: timedelta) -> int:
    """Claim and announce the tenant's activities due within `window`: how many."""
    claim = (
        sa.update(Activity)
        .where(*_due_soon(window))
        .values(reminded_due_at=col(Activity.due_at), updated_at=col(Activity.updated_at))
        .returning(col(Activity.id), *(col(getattr(Activity, name)) for name in _REMINDED))
        .execution_options(synchronize_session=False)
    )
    async with scope.writing() as uow:
        claimed = (await uow.execute(claim)).all()
        for row in claimed:
            facts = {camel(name): [None, jsonable(getattr(row, name))] for name in _REMINDED}
            uow.record("crm.activity.due_soon", "activity", row.id, facts)
    return len(claimed)


async def send_due_soon_reminders(
    sessions: async_sessionmaker[AsyncSession], window: timedelta
) -> int:
    """The cron job: every tenant's activities due within `window`, each reminded once."""
    sent = 0
    for tenant_id in await _tenants_with_due_activities(sessions, window):
        sent += await remind_tenant(TenantScope(tenant_id, None, sessions), window)
    return sent
