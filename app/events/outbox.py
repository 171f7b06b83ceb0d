"""The outbox: the events of a unit of work are stored by its own transaction.

`UnitOfWork.commit` (app.data.unit_of_work) calls `write` just before COMMIT: the pending
events get their per-tenant numbers and are inserted in one statement, so a rolled-back
change emits nothing. The tenant's counter row is locked last in the transaction: two writers
of a tenant commit their events one after the other, in `seq` order, and no lock cycle can
form around it. After the commit, `announce_committed` wakes this process's relay
(app.events.relay) to publish them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from app.telemetry import tracing
from app.telemetry.record import current_request_id

# The relays of this process (normally one), woken after each commit that stored events.
_committed_listeners: list[Callable[[], None]] = []

_WRITE_EVENTS = sa.text(
    """
    WITH counter AS (
        INSERT INTO event_counter AS c (tenant_id, last_seq)
        VALUES (CAST(:tenant AS uuid), CAST(:count AS bigint))
        ON CONFLICT (tenant_id) DO UPDATE SET last_seq = c.last_seq + CAST(:count AS bigint)
        RETURNING last_seq
    )
    INSERT INTO crm_event (tenant_id, seq, type, entity, entity_id, actor_id, changes,
                           request_id, traceparent)
    SELECT CAST(:tenant AS uuid), counter.last_seq - CAST(:count AS bigint) + e.ord,
           e.type, e.entity, e.entity_id, CAST(:actor AS uuid), e.changes,
           CAST(:request_id AS text), CAST(:traceparent AS text)
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


async def write(
    connection: AsyncConnection,
    tenant_id: uuid.UUID,
    actor_id: uuid.UUID | None,
    pending: list[PendingEvent],
) -> None:
    """Number and insert a unit of work's events, in its transaction (just before COMMIT)."""
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
    parameters = {
        "tenant": str(tenant_id),
        "count": len(rows),
        "actor": str(actor_id) if actor_id else None,
        "events": to_json(rows).decode(),
        "request_id": current_request_id(),  # the request or job that caused them, if any
        # The trace of the request that wrote them (None when tracing is off): jobs they queue
        # run in it (jobs/lexware.py).
        "traceparent": tracing.current_traceparent(),
    }
    await connection.execute(_WRITE_EVENTS, parameters)


def announce_committed() -> None:
    """Wake the relays: a commit stored events."""
    for listener in list(_committed_listeners):
        listener()
