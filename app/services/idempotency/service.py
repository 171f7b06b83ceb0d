"""The idempotency_key table's statements, and what a repeat of a key finds.

A key moves through three states, each write in a transaction of its own kind:

1. `claim`, in a short transaction before the mutation runs: a new key (or one past its
   expiry) is inserted as `running` for this attempt, with a lease. A `running` key whose
   lease ran out and that never committed belongs to an attempt that died before committing
   anything: the claim takes it over (a new attempt id). Otherwise the claim reports what the
   key holds (`Held`).
2. `mark_committed`, in each of the mutation's units of work, right before its COMMIT
   (`UnitOfWork.before_commit`): the key becomes `committed` with the writes, or neither
   happens. It names the attempt: an attempt whose key was taken over meanwhile (its lease
   ran out) finds no row, and its writes roll back; the attempt id is a fencing token.
3. `store_response` once the response is complete (the selection is resolved after the
   commit, by other sessions): `done`, with status, headers and body. `release` instead
   deletes the key of an attempt that committed nothing and failed: a retry runs again.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.data.tenancy import TenantScope, system_session
from app.data.unit_of_work import UnitOfWork
from app.errors import Conflict
from models import IdempotencyKey

RUNNING, COMMITTED, DONE = "running", "committed", "done"


@dataclass(frozen=True)
class KeyOfRequest:
    """Which key a request names (its tenant is the scope's) and what it asks for."""

    user_id: uuid.UUID
    key: str
    fingerprint: bytes
    operation: str | None


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Held:
    """What a repeat finds: another request's fingerprint, or the first request's state (its
    response once `done`; `lease_alive` while it may still be working on it)."""

    same_request: bool
    state: str
    lease_alive: bool
    response: StoredResponse | None


@asynccontextmanager
async def _bookkeeping(scope: TenantScope) -> AsyncIterator[UnitOfWork]:
    """A short transaction of the scope's tenant outside the request's writes: no commit hook,
    no events, and it does not count as the request committing."""
    async with scope.session() as session:
        uow = UnitOfWork(session, scope.tenant_id, scope.actor_id)
        await uow.begin()
        yield uow
        await uow.commit()


def _is_key(request: KeyOfRequest) -> list[sa.ColumnElement[bool]]:
    """The key's row (the tenant filter adds its tenant)."""
    return [col(IdempotencyKey.user_id) == request.user_id, col(IdempotencyKey.key) == request.key]


def _later(seconds: float) -> sa.ColumnElement[Any]:
    return sa.func.now() + sa.bindparam(None, timedelta(seconds=seconds), type_=sa.Interval())


async def claim(
    scope: TenantScope, request: KeyOfRequest, *, ttl_seconds: float, lease_seconds: float
) -> uuid.UUID | Held:
    """This attempt's id if it holds the key now (new, expired, or taken over), else what the
    key holds. Concurrent claims of one key queue on its row: one wins."""
    attempt = uuid.uuid4()
    key = IdempotencyKey
    now = sa.func.now()
    values = {
        "fingerprint": request.fingerprint,
        "operation": request.operation,
        "state": RUNNING,
        "attempt": attempt,
        "lease_expires_at": _later(lease_seconds),
        "expires_at": _later(ttl_seconds),
    }
    new = insert(key).values(scope.owned(user_id=request.user_id, key=request.key, **values))
    takes = new.on_conflict_do_update(
        index_elements=[col(key.tenant_id), col(key.user_id), col(key.key)],
        set_={
            **values,
            "created_at": now,
            "response_status": None,
            "response_headers": None,
            "response_body": None,
        },
        where=sa.or_(
            col(key.expires_at) <= now,  # an expired key is a new one
            sa.and_(  # the attempt that held it died before committing anything
                col(key.state) == RUNNING,
                col(key.lease_expires_at) <= now,
                col(key.fingerprint) == request.fingerprint,
            ),
        ),
    ).returning(col(key.attempt))
    found = sa.select(
        col(key.state),
        col(key.fingerprint),
        col(key.lease_expires_at) > now,
        col(key.response_status),
        col(key.response_headers),
        col(key.response_body),
    ).where(*_is_key(request), col(key.expires_at) > now)
    for _ in range(3):  # the row may expire or be purged between the two statements
        async with _bookkeeping(scope) as uow:
            if (await uow.execute_rows(takes)).first() is not None:
                return attempt
            row = (await uow.execute_rows(found)).first()
        if row is not None:
            state, stored_fingerprint, lease_alive, status, headers, body = row
            response = None
            if state == DONE and status is not None:
                response = StoredResponse(status, dict(headers or {}), bytes(body or b""))
            same = bytes(stored_fingerprint) == request.fingerprint
            return Held(same, state, bool(lease_alive), response)
    raise Conflict("The idempotency key changed while it was claimed; try again.")


async def mark_committed(uow: UnitOfWork, request: KeyOfRequest, attempt: uuid.UUID) -> None:
    """In the mutation's transaction, before its COMMIT: the key is `committed` with it. No row
    for this attempt: a retry took the key over after this attempt's lease ran out, and runs
    the mutation itself; this attempt's writes must not commit too."""
    key = IdempotencyKey
    marked = (
        sa.update(key)
        .where(*_is_key(request), col(key.attempt) == attempt, col(key.state) != DONE)
        .values(state=COMMITTED)
        .returning(col(key.attempt))
    )
    if (await uow.execute_rows(marked)).first() is None:
        raise Conflict(
            "This request ran longer than its idempotency key's lease and a retry with the "
            "same key took it over; nothing of this attempt was applied.",
            idempotency="TAKEN_OVER",
        )


async def store_response(
    scope: TenantScope,
    request: KeyOfRequest,
    attempt: uuid.UUID,
    response: StoredResponse,
    *,
    from_states: Iterable[str],
) -> bool:
    """The complete response, for repeats to replay (`done`); False if the key is not in one
    of `from_states` for this attempt (any more)."""
    key = IdempotencyKey
    stored = (
        sa.update(key)
        .where(*_is_key(request), col(key.attempt) == attempt, col(key.state).in_(from_states))
        .values(
            state=DONE,
            response_status=response.status,
            response_headers=dict(response.headers),
            response_body=response.body,
        )
        .returning(col(key.attempt))
    )
    async with _bookkeeping(scope) as uow:
        return (await uow.execute_rows(stored)).first() is not None


async def end_lease(scope: TenantScope, request: KeyOfRequest, attempt: uuid.UUID) -> bool:
    """The attempt committed and has no response worth replaying (its answer is an error):
    the key stays `committed`, and repeats hear at once that it was applied. False if the key
    is not committed for this attempt (its COMMIT failed after all)."""
    key = IdempotencyKey
    ended = (
        sa.update(key)
        .where(*_is_key(request), col(key.attempt) == attempt, col(key.state) == COMMITTED)
        .values(lease_expires_at=sa.func.now())
        .returning(col(key.attempt))
    )
    async with _bookkeeping(scope) as uow:
        return (await uow.execute_rows(ended)).first() is not None


async def release(scope: TenantScope, request: KeyOfRequest, attempt: uuid.UUID) -> None:
    """Free the key of an attempt that committed nothing: a retry with it runs again."""
    key = IdempotencyKey
    released = sa.delete(key).where(
        *_is_key(request), col(key.attempt) == attempt, col(key.state) == RUNNING
    )
    async with _bookkeeping(scope) as uow:
        await uow.execute(released)


async def purge_expired(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Delete every tenant's expired keys (a cron; a claim already ignores them)."""
    expired = sa.delete(IdempotencyKey).where(col(IdempotencyKey.expires_at) <= sa.func.now())
    async with system_session(sessions) as session:
        result = await session.execute(expired)
    return int(getattr(result, "rowcount", 0) or 0)
