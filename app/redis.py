"""The process-wide Redis client (one connection pool per process)."""

from __future__ import annotations

from arq.connections import RedisSettings
from redis.asyncio import Redis


def create_redis(url: str) -> Redis:
    client: Redis = Redis.from_url(url, decode_responses=False, health_check_interval=30)
    return client  # from_url is untyped


def arq_redis_settings(url: str) -> RedisSettings:
    """ARQ's connection settings for a redis://, rediss:// or unix:// URL."""
    if url.startswith("unix://"):
        return RedisSettings(unix_socket_path=url.removeprefix("unix://"))
    return RedisSettings.from_dsn(url)
