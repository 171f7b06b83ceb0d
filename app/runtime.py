"""Everything a server process holds for its lifetime, created and closed by the lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.auth import Authenticator, Principal
from app.data.engine import DatabaseLimits, create_engine, create_session_factory
from app.data.tenancy import TenantScope
from app.events.hub import EventHub
from app.events.relay import Relay
from app.keys import verification_keys
from app.lexware.connector import LexwareConnector
from app.rate_limiter import RateLimiter
from app.redis import create_redis
from app.revocations import RevocationView
from app.services.members.service import MemberDirectory
from app.settings import Settings
from app.telemetry.pools import report_pool

log = logging.getLogger(__name__)
CLOSE_SECONDS = 10.0


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    authenticator: Authenticator
    hub: EventHub
    relay: Relay
    lexware: LexwareConnector
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stop_reporting: list[Callable[[], None]] = field(default_factory=list)
    rate_limiter: RateLimiter = field(init=False)  # its own Redis pool and timeouts

    def __post_init__(self) -> None:
        self.rate_limiter = RateLimiter(self.settings)

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        database_url, redis_url = settings.require_servers()
        engine = create_engine(database_url, limits=DatabaseLimits.for_requests(settings))
        sessions = create_session_factory(engine)
        redis = create_redis(redis_url, settings)
        authenticator = Authenticator(
            settings,
            verification_keys(settings),
            revocation_view(settings, database_url, redis),
            MemberDirectory(sessions),
        )
        hub = EventHub(redis, inbox_limit=settings.subscription_buffer)
        # The relay has its own connection: it never waits for (or counts as) request work,
        # and it is background work, with the jobs' time limits.
        relay_engine = create_engine(
            database_url, pool_size=1, limits=DatabaseLimits.for_jobs(settings)
        )
        relay = Relay(relay_engine, redis, poll_seconds=settings.event_relay_poll_seconds)
        lexware = LexwareConnector(settings, redis)
        return cls(settings, engine, sessions, redis, authenticator, hub, relay, lexware)

    def scope_for(self, principal: Principal) -> TenantScope:
        """The tenant scope of one signed-in request or WebSocket connection: its own gate on
        how many sessions it holds at once, and whether what it creates is owned by its user."""
        return TenantScope(
            principal.tenant_id,
            principal.user_id,
            self.sessions,
            asyncio.Semaphore(self.settings.max_sessions_per_request),
            creator_owns=self.settings.creator_is_owner,
        )

    def start(self) -> None:
        """Background work of the process: the relay that publishes committed events."""
        self._tasks.append(asyncio.create_task(self.relay.run(), name="event-relay"))
        self._stop_reporting.append(report_pool(self.engine))  # crm_db_pool_connections
        self.authenticator.revocations.start()

    async def close(self) -> None:
        """Each step bounded: a connection stuck in the middle of a statement must not hold
        the process's shutdown (or a test's teardown) forever."""
        for stop in self._stop_reporting:
            stop()
        for task in self._tasks:
            task.cancel()
        tasks = asyncio.gather(*self._tasks, return_exceptions=True)
        await _bounded("background tasks", tasks)
        await _bounded("event hub", self.hub.close())
        await _bounded("event relay", self.relay.close())
        await _bounded("revocations", self.authenticator.revocations.close())
        await _bounded("Lexware client", self.lexware.close())
        await _bounded("Redis", self.redis.aclose())
        await _bounded("rate limiter", self.rate_limiter.close())
        await _bounded("database", self.engine.dispose())


def revocation_view(settings: Settings, database_url: str, redis: Redis) -> RevocationView:
    """Its own small pool with the requests' limits: its looks every few seconds never wait
    for request work, nor count as a request's statements."""
    engine = create_engine(database_url, pool_size=1, limits=DatabaseLimits.for_requests(settings))
    return RevocationView(
        engine,
        redis,
        refresh_seconds=settings.revocation_refresh_seconds,
        max_staleness=settings.revocation_max_staleness_seconds,
    )


async def _bounded(what: str, closing: Awaitable[object]) -> None:
    try:
        async with asyncio.timeout(CLOSE_SECONDS):
            await closing
    except TimeoutError:
        log.warning("shutdown: %s did not close within %s s; going on", what, CLOSE_SECONDS)
