"""Everything a server process holds for its lifetime, created and closed by the lifespan."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.auth import Authenticator
from app.db import create_engine, create_session_factory
from app.keys import verification_keys
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

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        database_url, redis_url = settings.require_servers()
        engine = create_engine(database_url)
        sessions = create_session_factory(engine)
        redis = create_redis(redis_url)
        authenticator = Authenticator(
            settings, verification_keys(settings), redis, MemberDirectory(sessions)
        )
        return cls(settings, engine, sessions, redis, authenticator)

    async def close(self) -> None:
        await self.redis.aclose()
        await self.engine.dispose()
