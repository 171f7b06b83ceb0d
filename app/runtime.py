"""Everything a server process holds for its lifetime, created and closed by the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.auth import Authenticator
from app.db import create_engine, create_session_factory
from app.events.hub import EventHub
from app.events.relay import Relay
from app.keys import verification_keys
from app.lexware.connector import LexwareConnector
from app.redis import create_redis
from app.services.members import MemberDirectory
from app.settings import Settings


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

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        database_url, redis_url = settings.require_servers()
        engine = create_engine(database_url)
        sessions = create_session_factory(engine)
        redis = create_redis(redis_url)
        authenticator = Authenticator(
            settings, verification_keys(settings), redis, MemberDirectory(sessions)
        )
        hub = EventHub(redis, inbox_limit=settings.subscription_buffer)
        # The relay has its own connection: it never waits for (or counts as) request work.
        relay_engine = create_engine(database_url, pool_size=1)
        relay = Relay(relay_engine, redis, poll_seconds=settings.event_relay_poll_seconds)
        lexware = LexwareConnector(settings, redis)
        return cls(settings, engine, sessions, redis, authenticator, hub, relay, lexware)

    def start(self) -> None:
        """Background work of the process: the relay that publishes committed events."""
        self._tasks.append(asyncio.create_task(self.relay.run(), name="event-relay"))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.hub.close()
        await self.relay.close()
        await self.lexware.close()
        await self.redis.aclose()
        await self.engine.dispose()
