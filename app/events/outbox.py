"""The outbox: events recorded during a unit of work are stored by the same transaction.

Services call `record()` while they write; at commit the pending events get their per-tenant
numbers and are inserted in one statement, just before COMMIT, so a rolled-back change emits
nothing. The tenant's counter row is locked last in the transaction: two writers of a tenant
commit their events one after the other, in `seq` order, and no lock cycle can form around it.
After the commit, the process's relay is woken to publish them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.data.tenancy import ACTOR_KEY, TENANT_KEY, CrmSession

PENDING_KEY = "events.pending"
WRITTEN_KEY = "events.written"
_committed_listeners: list[Callable[[], None]] = []

_WRITE_EVENTS = sa.text(
    """
    WITH counter AS (
        INSERT INTO event_counter AS c (tenant_id, last_seq)
        VALUES (CAST(:tenant AS uuid), CAST(:count AS bigint))
        ON CONFLICT (tenant_id) DO UPDATE SET last_seq = c.last_seq + CAST(:count AS bigint)
        RETURNING last_seq
    )
    INSERT INTO crm_event (tenant_id, seq, type, entity, entity_id, actor_id, changes)
    SELECT CAST(:tenant AS uuid), counter.last_seq - CAST(:count AS bigint) + e.ord,
           e.type, e.entity, e.entity_id, CAST(:actor AS uuid), e.changes
    FROM counter, jsonb_to_recordset(CAST(:events AS jsonb))
         AS e(ord bigint, type text, entity text, entity_id uuid, changes jsonb)
    """
)


@dataclass(frozen=True)
class PendingEvent:
    type: str
    entity: str
    entity_id: uuid.UUID
    changes: Mapping[str, Any]


def record(
    session: AsyncSession | Session,
    type_: str,
    entity: str,
    entity_id: uuid.UUID,
    changes: Mapping[str, Any] | None = None,
) -> None:
    """Queue an event for the session's current transaction (written at its commit)."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    if sync.info.get(TENANT_KEY) is None:
        raise RuntimeError("events belong to a tenant: record them in a tenant's unit of work")
    pending: list[PendingEvent] = sync.info.setdefault(PENDING_KEY, [])
    pending.append(PendingEvent(type_, entity, entity_id, changes or {}))


def on_committed(listener: Callable[[], None]) -> Callable[[], None]:
    """Call `listener` after every commit that stored events; returns the unsubscribe call."""
    _committed_listeners.append(listener)
    return lambda: _committed_listeners.remove(listener)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal | uuid.UUID):  # asyncpg's UUID is not the stdlib's class
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json(value: Any) -> bytes:
    return orjson.dumps(value, default=_json_default)


@event.listens_for(CrmSession, "before_commit")
def _write_pending(session: Session) -> None:
    pending: list[PendingEvent] = session.info.pop(PENDING_KEY, [])
    if not pending:
        return
    rows = [
        {
            "ord": n,
            "type": e.type,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "changes": e.changes,
        }
        for n, e in enumerate(pending, start=1)
    ]
    actor = session.info.get(ACTOR_KEY)
    session.connection().execute(
        _WRITE_EVENTS,
        {
            "tenant": str(session.info[TENANT_KEY]),
            "count": len(rows),
            "actor": str(actor) if actor else None,
            "events": to_json(rows).decode(),
        },
    )
    session.info[WRITTEN_KEY] = True


@event.listens_for(CrmSession, "after_commit")
def _announce(session: Session) -> None:
    if session.info.pop(WRITTEN_KEY, False):
        for listener in list(_committed_listeners):
            listener()


@event.listens_for(CrmSession, "after_rollback")
def _discard(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
    session.info.pop(WRITTEN_KEY, None)
