"""The store of Apollo's automatic persisted queries: one Redis for every server process.

A document is kept under its SHA-256 for APQ_TTL_SECONDS from its registration (a lookup does
not prolong it: its client re-registers it after one PERSISTED_QUERY_NOT_FOUND, which keeps
the accounting below exact). The total is bounded: each document counts its UTF-8 bytes
plus ENTRY_OVERHEAD (Redis's own bookkeeping of a key, its index and size entries), and a
registration that takes the total over APQ_STORE_MAX_BYTES evicts the oldest documents until
it fits. One Lua script does it in one round trip: forget what expired, store, account,
evict. A single document is at most MAX_BODY_BYTES (it arrived in one request body).

Redis is never a reason to fail a request: a lookup that cannot reach it answers "unknown"
(the client then sends the text, which is served), a registration that cannot reach it is
skipped. After a failure Redis is left alone for RETRY_SECONDS, so during an outage (a
paused Redis answers nothing until the socket timeout) only the first request in each such
window waits, and at most REDIS_SOCKET_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.redis import redis_failed
from app.settings import Settings

log = logging.getLogger(__name__)
PREFIX = "crm:apq:"
DOCUMENT_PREFIX = PREFIX + "doc:"
INDEX, SIZES, TOTAL = PREFIX + "index", PREFIX + "sizes", PREFIX + "bytes"
ENTRY_OVERHEAD = 256  # bytes counted per document besides its text
RETRY_SECONDS = 5.0
REDIS_FAILURES = (RedisError, OSError, TimeoutError)

# KEYS: the index (sorted set: hash -> registered at, ms), the sizes (hash -> bytes counted),
# the total (bytes counted), the document's key. ARGV: hash, text, TTL s, now ms, most bytes,
# the documents' key prefix, bytes this document counts. Returns the total after it.
REGISTER = """
local index, sizes, total = KEYS[1], KEYS[2], KEYS[3]
local hash, ttl, now = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4])
local most, prefix, counted = tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])

local function forget(member)
  local size = tonumber(redis.call('HGET', sizes, member)) or 0
  redis.call('HDEL', sizes, member)
  redis.call('ZREM', index, member)
  redis.call('DEL', prefix .. member)
  redis.call('DECRBY', total, size)
end

for _, member in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', now - ttl * 1000,
                                   'LIMIT', 0, 1000)) do
  forget(member)
end
if redis.call('ZSCORE', index, hash) then
  forget(hash)
end
-- Registered in order, also within one millisecond: the oldest is evicted first.
local newest = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')[2]
if newest and tonumber(newest) >= now then
  now = tonumber(newest) + 1
end
redis.call('SET', KEYS[4], ARGV[2], 'EX', ttl)
redis.call('ZADD', index, now, hash)
redis.call('HSET', sizes, hash, counted)
local used = redis.call('INCRBY', total, counted)
while used > most do
  local oldest = redis.call('ZRANGE', index, 0, 0)[1]
  if oldest == nil or oldest == hash then
    break
  end
  forget(oldest)
  used = tonumber(redis.call('GET', total)) or 0
end
return used
"""


class DocumentStore:
    """Registered documents by SHA-256 (hex), in Redis, with a breaker for outages."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.ttl_seconds = settings.apq_ttl_seconds
        self.max_bytes = settings.apq_store_max_bytes
        # A backstop over the client's own socket timeouts (connecting, then one command).
        self.timeout = (
            settings.redis_connect_timeout_seconds + settings.redis_socket_timeout_seconds
        )
        self.script = redis.register_script(REGISTER)
        self._skip_until = 0.0
        self._failing = False

    async def get(self, sha256: str) -> str | None:
        """The document registered under the hash; None when unknown or Redis is away."""
        if self._skipping():
            return None
        try:
            async with asyncio.timeout(self.timeout):
                stored = await self.redis.get(DOCUMENT_PREFIX + sha256)
        except REDIS_FAILURES as error:
            self._failed(error)
            return None
        self._answered()
        return None if stored is None else bytes(stored).decode()

    async def put(self, sha256: str, text: str) -> bool:
        """Register a document (its hash checked by the caller); False when Redis is away."""
        if self._skipping():
            return False
        encoded = text.encode()
        keys = [INDEX, SIZES, TOTAL, DOCUMENT_PREFIX + sha256]
        counted = len(encoded) + ENTRY_OVERHEAD
        now_ms = int(time.time() * 1000)
        args: list[bytes | str | int] = [
            sha256,
            encoded,
            self.ttl_seconds,
            now_ms,
            self.max_bytes,
            DOCUMENT_PREFIX,
            counted,
        ]
        try:
            async with asyncio.timeout(self.timeout):
                await self.script(keys, args)
        except REDIS_FAILURES as error:
            self._failed(error)
            return False
        self._answered()
        return True

    def _skipping(self) -> bool:
        return time.monotonic() < self._skip_until

    def _failed(self, error: BaseException) -> None:
        redis_failed("persisted_queries")
        self._skip_until = time.monotonic() + RETRY_SECONDS
        if not self._failing:
            self._failing = True
            log.warning(
                "persisted queries: Redis unreachable (%s); lookups answer "
                "PERSISTED_QUERY_NOT_FOUND and nothing is registered until it answers again",
                type(error).__name__,
            )

    def _answered(self) -> None:
        if self._failing:
            self._failing = False
            log.warning("persisted queries: Redis answers again")
