"""The process-wide Redis client (one connection pool per process), bounded in time.

Every command waits at most REDIS_SOCKET_TIMEOUT_SECONDS for its answer and a connection at
most REDIS_CONNECT_TIMEOUT_SECONDS: a stopped Redis fails at once, a paused one (SIGSTOP, a
network that drops everything) after the timeout, never the 40 s and more an unbounded
socket waited. No retry on a timeout: a request path must not wait twice. Pub/sub listeners
(the event hub, the revocation notices) read with a timeout of their own per `get_message`,
which redis-py uses instead of the socket timeout: an idle channel is no error.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from arq.connections import RedisSettings
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from app.settings import Settings
from app.telemetry.metrics import REDIS_ERRORS

ARQ_CONNECT_RETRIES = 2  # ARQ's default is 5, a second apart: a worker start waits 5 s more


def create_redis(url: str, settings: Settings) -> Redis:
    client: Redis = Redis.from_url(
        url,
        decode_responses=False,
        health_check_interval=30,
        socket_connect_timeout=settings.redis_connect_timeout_seconds,
        socket_timeout=settings.redis_socket_timeout_seconds,
        retry_on_timeout=False,
    )
    return client  # from_url is untyped


def arq_redis_settings(url: str, settings: Settings) -> RedisSettings:
    """ARQ's connection settings for a redis://, rediss:// or unix:// URL: connecting bounded
    as ours, and given up after a few attempts (ARQ's worker is background work; it has no
    socket timeout to set)."""
    if url.startswith("unix://"):
        redis_settings = RedisSettings(unix_socket_path=url.removeprefix("unix://"))
    else:
        redis_settings = RedisSettings.from_dsn(url)
    # ARQ's conn_timeout is its pool's connect timeout (an int in its annotation).
    redis_settings.conn_timeout = max(1, round(settings.redis_connect_timeout_seconds))
    redis_settings.conn_retries = ARQ_CONNECT_RETRIES
    redis_settings.retry_on_timeout = False
    return redis_settings


def redis_failed(caller: str) -> None:
    """Count a Redis call that failed or timed out (`crm_redis_errors_total{caller}`)."""
    REDIS_ERRORS.labels(caller=caller).inc()


async def heard(pubsub: PubSub, ping_seconds: float) -> AsyncIterator[dict[str, Any]]:
    """The messages of a subscribed connection, until it fails. A quiet connection is pinged
    (its answer is heard too); nothing heard within three intervals means it is half-open (a
    paused Redis, a dropped network): TimeoutError, and the listener connects again."""
    last_heard = time.monotonic()
    while True:
        message = await pubsub.get_message(timeout=ping_seconds)
        if message is None:
            if time.monotonic() - last_heard > 3 * ping_seconds:
                raise TimeoutError("no answer from Redis")
            await pubsub.ping()
            continue
        last_heard = time.monotonic()
        yield message
