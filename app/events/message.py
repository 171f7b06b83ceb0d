"""One domain event as stored, published and delivered: the same shape in PostgreSQL, in the
Redis message (JSON, camelCase) and in the GraphQL `CrmEvent` type."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from app.telemetry import tracing

# Anyone can publish on crm.*: a request id that is not a plain token is dropped, not logged.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")


def _request_id(sent: object) -> str | None:
    return sent if isinstance(sent, str) and _REQUEST_ID.fullmatch(sent) else None


class BadMessage(ValueError):
    """A Redis message that is not one of our events (ignored by the hub)."""


@dataclass(frozen=True)
class CrmEventMessage:
    tenant_id: uuid.UUID
    seq: int
    type: str
    entity: str
    entity_id: uuid.UUID
    actor_id: uuid.UUID | None
    occurred_at: datetime
    changes: Mapping[str, Any] = field(default_factory=dict)
    # The request (or job) that caused it: logs only, not part of the GraphQL CrmEvent.
    request_id: str | None = None
    # The W3C trace context of the request that caused it, when that request was traced.
    traceparent: str | None = None

    @property
    def id(self) -> str:
        """The event id clients see: its number within the tenant (a resume cursor)."""
        return str(self.seq)

    @classmethod
    def from_row(cls, row: Any) -> CrmEventMessage:
        return cls(
            tenant_id=uuid.UUID(str(row.tenant_id)),
            seq=int(row.seq),
            type=row.type,
            entity=row.entity,
            entity_id=uuid.UUID(str(row.entity_id)),
            actor_id=uuid.UUID(str(row.actor_id)) if row.actor_id else None,
            occurred_at=row.occurred_at,
            changes=row.changes,
            request_id=getattr(row, "request_id", None),
            traceparent=getattr(row, "traceparent", None),
        )

    def to_json(self) -> bytes:
        message = {
            "id": self.id,
            "type": self.type,
            "tenantId": str(self.tenant_id),
            "entity": self.entity,
            "entityId": str(self.entity_id),
            "actorId": str(self.actor_id) if self.actor_id else None,
            "occurredAt": self.occurred_at.isoformat(),
            "changes": self.changes,
            "requestId": self.request_id,
        }
        if self.traceparent is not None:  # only while tracing: other services may join it
            message["traceparent"] = self.traceparent
        return orjson.dumps(message)

    @classmethod
    def from_json(cls, data: bytes) -> CrmEventMessage:
        try:
            payload = orjson.loads(data)
            actor = payload["actorId"]
            return cls(
                tenant_id=uuid.UUID(payload["tenantId"]),
                seq=int(payload["id"]),
                type=str(payload["type"]),
                entity=str(payload["entity"]),
                entity_id=uuid.UUID(payload["entityId"]),
                actor_id=uuid.UUID(actor) if actor else None,
                occurred_at=datetime.fromisoformat(payload["occurredAt"]),
                changes=dict(payload["changes"]),
                request_id=_request_id(payload.get("requestId")),
                traceparent=tracing.sane_traceparent(payload.get("traceparent")),
            )
        except Exception as error:  # anyone can publish on crm.*: nothing may break the hub
            raise BadMessage(f"{type(error).__name__}: {error}") from None
