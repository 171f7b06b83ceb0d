"""Revoked tokens: durable in PostgreSQL, known to each process from its own view.

`revoke` writes the token's row (`revoked_token`, keyed on the auth service's (issuer, jti))
and then publishes a notice on Redis. Each process keeps a view of the revoked keys: read from
PostgreSQL at start and then every REVOCATION_REFRESH_SECONDS (only the rows revoked since the
last look), and told at once by a notice. Requests look only at the view (no Redis, no SQL):
a Redis outage changes nothing for them, and a notice lost in one only delays a revocation to
the next refresh.

The view is trusted while it is younger than REVOCATION_MAX_STALENESS_SECONDS; older (the
database unreachable that long), `is_revoked` tries one refresh and, failing, answers
SERVICE_UNAVAILABLE, as the blocklist in Redis did when Redis was down. Sockets signed in
with a token can wait for its revocation (`watching`): the notice closes them within moments.

An entry is kept until the token would have expired anyway (its `exp` plus the leeway), when
verification refuses it by itself; the rows are then deleted (by each process's refresh,
once a minute).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import orjson
import sqlalchemy as sa
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.data.failures import database_failure, naming_database_failures
from app.errors import ServiceUnavailable
from app.redis import heard, redis_failed
from app.supervision import Backoff, cancelled
from app.telemetry.metrics import REVOCATION_VIEW_AGE
from models.roles import SYSTEM_SETTING

log = logging.getLogger(__name__)
CHANNEL = "crm:revocations"  # not under `crm.*`: the event hub's pattern must not match it
PING_SECONDS = 10.0  # a quiet notice channel is pinged; 3 unanswered: reconnect
# Rows are read again from a little before the last look: an insert's `revoked_at` is its
# statement's start, which may be before the look while the row commits after it. A
# statement runs at most DB_STATEMENT_TIMEOUT_SECONDS (5 s by default).
OVERLAP = timedelta(seconds=60)
PURGE_EVERY_SECONDS = 60.0
MAX_NOTICE_BYTES = 4096
STALE_MESSAGE = "Token revocations cannot be checked at the moment; try again shortly."

Key = tuple[str, str]  # (issuer, or "" for none; jti)

_INSERT = sa.text(
    """
    INSERT INTO revoked_token (issuer, jti, tenant_slug, expires_at)
    VALUES (:issuer, :jti, :tenant, to_timestamp(:expires))
    ON CONFLICT (issuer, jti) DO NOTHING
    """
)
# One statement that answers even when nothing changed: the server's clock (where the next
# look starts) and the rows revoked since `since`, not yet expired.
_CHANGES = sa.text(
    """
    WITH clock AS (SELECT now() AS at)
    SELECT clock.at, r.issuer, r.jti, extract(epoch FROM r.expires_at)::float8 AS expires
    FROM clock LEFT JOIN revoked_token r ON r.revoked_at > :since AND r.expires_at > clock.at
    """
)
# Every process's revocations are the server's own bookkeeping, across tenants: crm_system's.
_AS_SYSTEM = sa.text(SYSTEM_SETTING)
_PURGE = sa.text("DELETE FROM revoked_token WHERE expires_at < now() - interval '1 minute'")
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


def revocation_key(issuer: str | None, jti: str) -> Key:
    # Keyed on (iss, jti), never on the token text: one token has several valid encodings.
    return (issuer or "", jti)


class RevocationView:
    """This process's view of the revoked tokens (one per runtime)."""

    def __init__(
        self, engine: AsyncEngine, redis: Redis, *, refresh_seconds: float, max_staleness: float
    ) -> None:
        self._engine = engine
        self._redis = redis
        self._refresh_seconds = refresh_seconds
        self._max_staleness = max_staleness
        self._revoked: dict[Key, float] = {}  # key -> when the token expires (epoch seconds)
        self._since = _BEGINNING
        self._fresh_at: float | None = None  # monotonic: when the last good look began
        self._failed_at: float | None = None
        self._purged_at = 0.0
        self._looking: asyncio.Task[None] | None = None
        self._watchers: dict[Key, set[asyncio.Event]] = defaultdict(set)
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self.listening = asyncio.Event()  # subscribed to the notices now

    # -- asked by requests -----------------------------------------------------------------

    @property
    def age(self) -> float | None:
        """Seconds since the view was last known complete (None: never loaded)."""
        return None if self._fresh_at is None else time.monotonic() - self._fresh_at

    async def is_revoked(self, issuer: str | None, jti: str) -> bool:
        age = self.age
        if age is None or age > self._max_staleness:
            await self.refresh()
        return revocation_key(issuer, jti) in self._revoked

    async def revoke(self, issuer: str | None, jti: str, tenant_slug: str, expires: int) -> None:
        """Durable first (a failure answers SERVICE_UNAVAILABLE and nothing is revoked), then
        this process's view, then the other processes' by a notice (best effort: without
        Redis they find the row at their next refresh)."""
        key = revocation_key(issuer, jti)
        values = {"issuer": key[0], "jti": jti, "tenant": tenant_slug, "expires": expires}
        async with naming_database_failures(), self._engine.begin() as connection:
            await connection.execute(_AS_SYSTEM)
            await connection.execute(_INSERT, values)
        self._add(key, float(expires))
        try:
            await self._redis.publish(CHANNEL, orjson.dumps([key[0], jti, expires]))
        except RedisError as error:
            redis_failed("revocations")
            log.warning("revocation notice not sent (%s): other processes refresh soon", error)

    @contextmanager
    def watching(self, issuer: str | None, jti: str) -> Iterator[asyncio.Event]:
        """An event set when this token is found revoked (a socket waits on it)."""
        key = revocation_key(issuer, jti)
        revoked = asyncio.Event()
        if key in self._revoked:
            revoked.set()
        self._watchers[key].add(revoked)
        try:
            yield revoked
        finally:
            self._watchers[key].discard(revoked)
            if not self._watchers[key]:
                del self._watchers[key]

    # -- kept up to date -------------------------------------------------------------------

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._refresh_loop(), name="revocation-refresh"))
        self._tasks.append(asyncio.create_task(self._notice_loop(), name="revocation-notices"))

    async def close(self) -> None:
        await cancelled(self._tasks)
        self._tasks.clear()
        await self._engine.dispose()

    def _add(self, key: Key, expires: float) -> None:
        if key in self._revoked:
            return
        self._revoked[key] = expires
        for revoked in self._watchers.get(key, ()):
            revoked.set()

    async def refresh(self) -> None:
        """One look at the database, shared by everyone who asks meanwhile; a look that
        failed within the last refresh interval is not tried again at once."""
        if self._failed_at is not None and (
            time.monotonic() - self._failed_at < self._refresh_seconds
        ):
            raise ServiceUnavailable(STALE_MESSAGE)
        if self._looking is None or self._looking.done():
            self._looking = asyncio.create_task(self._look())
        try:
            await asyncio.shield(self._looking)
        except Exception as error:
            raise ServiceUnavailable(STALE_MESSAGE) from error

    async def _look(self) -> None:
        began = time.monotonic()
        try:
            async with self._engine.connect() as connection:
                await connection.execute(_AS_SYSTEM)
                rows = (await connection.execute(_CHANGES, {"since": self._since})).all()
                if began - self._purged_at > PURGE_EVERY_SECONDS:
                    await connection.execute(_PURGE)
                    await connection.commit()  # the switch ends with the transaction
                    self._purged_at = began
        except Exception:
            self._failed_at = time.monotonic()
            raise
        for _at, issuer, jti, expires in rows:
            if jti is not None:
                self._add((issuer, jti), expires)
        self._since = rows[0][0] - OVERLAP
        now = time.time()
        for key in [key for key, expires in self._revoked.items() if expires < now]:
            del self._revoked[key]  # expired: verification refuses the token by itself
        self._fresh_at, self._failed_at = began, None

    async def _refresh_loop(self) -> None:
        failing = False
        while True:
            try:
                await self.refresh()
                if failing:
                    log.info("revocations: the database answers again; view refreshed")
                failing = False
            except ServiceUnavailable as unavailable:
                if not failing:  # one line per outage, not one per refresh
                    cause = unavailable.__cause__
                    named = database_failure(cause) if cause is not None else None
                    log.warning(
                        "revocations: cannot refresh the view (%s); requests are refused "
                        "once it is %s s old",
                        named.message if named is not None else cause,
                        self._max_staleness,
                    )
                failing = True
            age = self.age
            REVOCATION_VIEW_AGE.set(age if age is not None else float("inf"))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._refresh_seconds)

    async def _notice_loop(self) -> None:
        backoff = Backoff(log, "revocation notices")
        while True:
            try:
                await self._listen(backoff)
            except Exception as error:  # Redis away: the refresh still finds every row
                self.listening.clear()
                redis_failed("revocations")
                await backoff.failed(error)

    async def _listen(self, backoff: Backoff) -> None:
        async with self._redis.pubsub() as pubsub:
            await pubsub.subscribe(CHANNEL)
            async for message in heard(pubsub, PING_SECONDS):
                if message["type"] == "subscribe":
                    self.listening.set()
                    backoff.succeeded()
                    self._wake.set()  # notices sent while we were away: look now
                elif message["type"] == "message":
                    self._on_notice(message["data"])

    def _on_notice(self, data: bytes) -> None:
        try:
            if len(data) > MAX_NOTICE_BYTES:
                raise ValueError(f"longer than {MAX_NOTICE_BYTES} bytes")
            issuer, jti, expires = orjson.loads(data)
            if not (isinstance(issuer, str) and isinstance(jti, str)):
                raise TypeError("issuer and jti must be strings")
            self._add((issuer, jti), float(expires))
        except (ValueError, TypeError) as error:
            log.warning("revocations: ignoring a notice that is not one (%s)", error)
