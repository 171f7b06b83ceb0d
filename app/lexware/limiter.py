"""The Lexware rate limit (2 requests/second per API key) held across every process.

Each request reserves the next free start time of its key in Redis (one Lua script, Redis's own
clock), so server and worker processes together never start two requests closer than the
interval. The interval carries a margin over 500 ms: the limit is counted where requests
arrive, after network jitter.
"""

from __future__ import annotations

import asyncio
import hashlib

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.errors import LexwareUnavailable, RateLimited
from app.redis import redis_failed
from app.telemetry.metrics import LEXWARE_LIMITER_WAIT

INTERVAL_MS = 550  # 2 req/s, with room for jitter between our start and Lexware's clock
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(free, now)
if slot - now > tonumber(ARGV[2]) then
  return -1
end
redis.call('SET', KEYS[1], slot + tonumber(ARGV[1]), 'PX', slot + tonumber(ARGV[1]) - now + 1000)
return slot - now
"""


def _key(api_key: str) -> str:
    # Never an API key in a Redis key name: a digest identifies it.
    return "lexware:rate:" + hashlib.sha256(api_key.encode()).hexdigest()[:24]


class RateLimiter:
    def __init__(self, redis: Redis, *, interval_ms: int = INTERVAL_MS) -> None:
        self._redis = redis
        self._interval_ms = interval_ms
        self._script = redis.register_script(_RESERVE)

    async def acquire(self, api_key: str, max_wait_seconds: float) -> None:
        """Wait for this key's next slot; RATE_LIMITED if it is further than `max_wait`."""
        try:
            wait_ms = int(
                await self._script(
                    keys=[_key(api_key)], args=[self._interval_ms, int(max_wait_seconds * 1000)]
                )
            )
        except RedisError:
            redis_failed("lexware_limiter")
            # Without Redis, no process can know what the others sent: nothing goes out.
            raise LexwareUnavailable(
                "Lexware calls are paused: the rate limiter is down."
            ) from None
        if wait_ms < 0:
            raise RateLimited("Lexware is busy (2 requests per second); try again in a moment.")
        LEXWARE_LIMITER_WAIT.observe(wait_ms / 1000)  # 0 too: how often a call waits at all
        if wait_ms:
            await asyncio.sleep(wait_ms / 1000)
