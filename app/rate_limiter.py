"""Rate limits per user and per tenant, counted in cost units, shared by every server process.

Two budgets per request, both in units per minute: the user's (RATE_LIMIT_USER) and the larger
one of their tenant (RATE_LIMIT_TENANT). They live in Redis as sliding-window counters (two
counters per budget: O(1) whatever the budget, where a moving window keeps one list entry per
unit), both charged by one script in one round trip (app/rate_limit_script.py), with the
`limits` library's arithmetic; while Redis is away, the library's own counters in memory. What
an operation costs in units is resolvers/operation_units.py's business; the transports
(app/web/rate_limit.py) charge it before anything runs, so a refused request runs nothing.

The user's budget is charged first: a user over budget is refused without touching the tenant's,
so one user's burst never spends what their colleagues share. A request the tenant's budget
refuses has been counted against its user (the smaller budget: it only happens when colleagues
together have spent the tenant's). A request costing more than a whole budget is charged the
whole budget (it would never fit otherwise).

Redis unreachable or hanging: every call has connect and socket timeouts
(RATE_LIMIT_REDIS_TIMEOUT_SECONDS); the first failure opens a circuit breaker, and for
RATE_LIMIT_REDIS_RETRY_SECONDS at a time no request waits on Redis at all: the limiter fails
open to this process's own memory, with the same budgets (one user still cannot starve this
process), says so once per outage in a WARNING line and in `crm_rate_limiter_degraded`, and
in /health. After that time one request tries Redis again; when it answers, the shared budgets
apply again (a WARNING line says that too).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from app.rate_limit_script import CHARGE_BOTH, TENANT_REFUSED, USER_REFUSED, window_keys
from app.settings import Settings
from app.telemetry.metrics import RATE_LIMITER_DEGRADED

log = logging.getLogger(__name__)
Scope = Literal["user", "tenant"]
KEY_PREFIX = "crm:rate"
# What a failed Redis call raises: redis-py's errors (its timeouts included), the socket's own,
# and a timeout of the asyncio guard around each charge.
REDIS_FAILURES = (RedisError, OSError, TimeoutError)


@dataclass(frozen=True)
class Policy:
    """A budget's rule: `limit` units per `window` seconds (a RateLimit-Policy item)."""

    scope: Scope
    limit: int
    window: int


@dataclass(frozen=True)
class Budget:
    """A budget's state after a charge (a RateLimit item)."""

    policy: Policy
    remaining: int
    reset: int  # seconds until the units spent so far are all free again


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    units: int  # what the request was charged (or would have been)
    budget: Budget  # the budget that refused it, else the user's
    retry_after: int | None = None  # seconds, when refused
    quiet: float = 0.0  # when refused: seconds during which not even one unit fits

    @property
    def scope(self) -> Scope:
        return self.budget.policy.scope


@dataclass(frozen=True)
class Window:
    """A sliding-window counter as the storage reports it: the previous window's count and the
    seconds it still weighs in, the current window's count and its key's time to live (the
    current window's end plus one whole window, during which it weighs in as the previous)."""

    previous: int
    previous_ttl: float
    current: int
    current_ttl: float

    def spent(self, window: int) -> int:
        return math.floor(self.previous * self.previous_ttl / window) + self.current

    def seconds_until_fits(self, units: int, limit: int, window: int) -> float:
        """How long until `units` more fit, as the storage decides it (`floor(previous x its
        weight) + current + units <= limit`): the previous window's count fades linearly; if
        the current window's own count leaves no room, it has to end and fade first."""
        if self.current + units <= limit:
            if self.previous == 0:
                return 0.0
            room = limit - self.current - units
            return max(0.0, self.previous_ttl - (room + 1) * window / self.previous)
        current_ends = max(0.0, self.current_ttl - window)
        return current_ends + window * (self.current + units - limit - 1) / self.current


class Breaker:
    """After a Redis failure, skip Redis for `retry_seconds`; then let one request try it."""

    def __init__(self, retry_seconds: float) -> None:
        self.retry_seconds = retry_seconds
        self.degraded_since: datetime | None = None
        self._skip_until = 0.0

    def use_redis(self) -> bool:
        if self.degraded_since is None:
            return True
        now = time.monotonic()
        if now < self._skip_until:
            return False
        self._skip_until = now + self.retry_seconds  # this request probes; the others skip
        return True

    def failed(self, error: BaseException) -> None:
        self._skip_until = time.monotonic() + self.retry_seconds
        if self.degraded_since is None:
            self.degraded_since = datetime.now(UTC)
            RATE_LIMITER_DEGRADED.set(1)
            log.warning(
                "rate limiter: Redis unreachable (%s); failing open to this process's own "
                "budgets in memory, trying Redis again every %g s",
                _describe(error),
                self.retry_seconds,
            )

    def succeeded(self) -> None:
        if self.degraded_since is not None:
            lasted = (datetime.now(UTC) - self.degraded_since).total_seconds()
            self.degraded_since = None
            RATE_LIMITER_DEGRADED.set(0)
            log.warning(
                "rate limiter: Redis reachable again after %.1f s; shared budgets apply", lasted
            )


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class Budgets:
    """The two budgets in this process's memory (the fallback while Redis is away), kept by
    the `limits` library's sliding-window counter, the arithmetic of the shared ones."""

    def __init__(self, storage: MemoryStorage, settings: Settings) -> None:
        self.storage = storage
        self.limiter = SlidingWindowCounterRateLimiter(storage)
        self.user, self.tenant = _items(settings)

    async def charge(self, tenant: str, user: str, units: int) -> Verdict:
        user_ids, tenant_ids = (tenant, user), (tenant,)
        charged = min(units, self.user.amount)
        if not await self.limiter.hit(self.user, *user_ids, cost=charged):
            return _refusal(self.user, await self._window(self.user, user_ids), charged, "user")
        in_tenant = min(units, self.tenant.amount)
        if not await self.limiter.hit(self.tenant, *tenant_ids, cost=in_tenant):
            window = await self._window(self.tenant, tenant_ids)
            return _refusal(self.tenant, window, in_tenant, "tenant")
        window = await self._window(self.user, user_ids)
        return Verdict(True, charged, _budget(self.user, window, "user"))

    async def _window(self, item: RateLimitItem, ids: tuple[str, ...]) -> Window:
        counts = await self.storage.get_sliding_window(item.key_for(*ids), item.get_expiry())
        return Window(*counts)


class SharedBudgets:
    """The two budgets in Redis, for every process: one script call per request
    (app/rate_limit_script.py)."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.script = redis.register_script(CHARGE_BOTH)
        self.user, self.tenant = _items(settings)

    async def charge(self, tenant: str, user: str, units: int) -> Verdict:
        charged, in_tenant = min(units, self.user.amount), min(units, self.tenant.amount)
        keys = [
            *window_keys(KEY_PREFIX, self.user.key_for(tenant, user)),
            *window_keys(KEY_PREFIX, self.tenant.key_for(tenant)),
        ]
        expiry = self.user.get_expiry()
        limits = [self.user.amount, self.tenant.amount, expiry, charged, in_tenant]
        outcome, previous, previous_ttl, current, current_ttl = await self.script(keys, limits)
        window = Window(int(previous), previous_ttl / 1000, int(current), current_ttl / 1000)
        if outcome == USER_REFUSED:
            return _refusal(self.user, window, charged, "user")
        if outcome == TENANT_REFUSED:
            return _refusal(self.tenant, window, in_tenant, "tenant")
        return Verdict(True, charged, _budget(self.user, window, "user"))


def _items(settings: Settings) -> tuple[RateLimitItem, RateLimitItem]:
    user = RateLimitItemPerMinute(settings.rate_limit_user, namespace="user")
    return user, RateLimitItemPerMinute(settings.rate_limit_tenant, namespace="tenant")


def _refusal(item: RateLimitItem, window: Window, units: int, scope: Scope) -> Verdict:
    """The verdict on `units` the budget `item` (in the state `window`) has no room for."""
    wait = window.seconds_until_fits(units, item.amount, item.get_expiry())
    quiet = window.seconds_until_fits(1, item.amount, item.get_expiry())
    budget = _budget(item, window, scope)
    return Verdict(False, units, budget, retry_after=max(1, math.ceil(wait)), quiet=quiet)


def _budget(item: RateLimitItem, window: Window, scope: Scope) -> Budget:
    expiry = item.get_expiry()
    remaining = max(0, item.amount - window.spent(expiry))
    reset = math.ceil(window.current_ttl) if window.current or window.previous else 0
    return Budget(Policy(scope, item.amount, expiry), remaining, reset)


class Refusals:
    """Whose budget has no unit left, until when. A burst keeps sending after its refusal; while
    not even one unit fits the budget that refused it, this process refuses its requests itself,
    without a Redis call. Exact: other processes can only spend more of that budget."""

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        # (until, retry at, remembered at, the refusal), by (tenant, user) or (tenant, None)
        self._until: dict[tuple[str, str | None], tuple[float, float, float, Verdict]] = {}

    def check(self, tenant: str, user: str, units: int) -> Verdict | None:
        now = time.monotonic()
        for key in ((tenant, user), (tenant, None)):  # the user's budget, the tenant's
            found = self._until.get(key)
            if found is None:
                continue
            until, retry_at, at, verdict = found
            if now >= until:
                del self._until[key]
                continue
            charged = min(units, verdict.budget.policy.limit)
            wait = max(until, retry_at) - now if charged >= verdict.units else until - now
            budget = replace(verdict.budget, reset=max(0, verdict.budget.reset - round(now - at)))
            return replace(
                verdict, units=charged, budget=budget, retry_after=max(1, math.ceil(wait))
            )
        return None

    def remember(self, tenant: str, user: str, verdict: Verdict) -> None:
        if verdict.allowed or verdict.quiet <= 0 or verdict.retry_after is None:
            return
        if len(self._until) >= self.MAX_ENTRIES:
            self._until.clear()  # a flood of distinct users: start again rather than grow
        now = time.monotonic()
        key = (tenant, user if verdict.scope == "user" else None)
        self._until[key] = (now + verdict.quiet, now + verdict.retry_after, now, verdict)


class RateLimiter:
    """The process's rate limiter: the shared budgets in Redis, this process's own in memory
    while Redis cannot be reached."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limit_enabled
        self.timeout = settings.rate_limit_redis_timeout_seconds
        self.user_limit, self.tenant_limit = settings.rate_limit_user, settings.rate_limit_tenant
        self.breaker = Breaker(settings.rate_limit_redis_retry_seconds)
        self._pool = _pool(settings.require_servers()[1], self.timeout)
        self.shared = SharedBudgets(Redis(connection_pool=self._pool), settings)
        self.local = Budgets(MemoryStorage(), settings)
        self.refusals = Refusals()

    async def charge(self, tenant: str, user: str, units: int) -> Verdict:
        """Charge `units` to the user's and then the tenant's budget, or refuse."""
        refused = self.refusals.check(tenant, user, units)
        if refused is not None:
            return refused
        verdict = await self._charge(tenant, user, units)
        self.refusals.remember(tenant, user, verdict)
        return verdict

    async def _charge(self, tenant: str, user: str, units: int) -> Verdict:
        if self.breaker.use_redis():
            try:
                verdict = await self._charge_shared(tenant, user, units)
            except REDIS_FAILURES as error:
                self.breaker.failed(error)
            else:
                self.breaker.succeeded()
                return verdict
        return await self.local.charge(tenant, user, units)

    async def _charge_shared(self, tenant: str, user: str, units: int) -> Verdict:
        # A backstop over the socket timeouts (connecting, then the script's one call).
        async with asyncio.timeout(2 * self.timeout):
            return await self.shared.charge(tenant, user, units)

    def policies(self) -> tuple[Policy, Policy]:
        window = self.shared.user.get_expiry()
        return Policy("user", self.user_limit, window), Policy("tenant", self.tenant_limit, window)

    def health(self) -> dict[str, object]:
        """For /health: off, ok, or degraded (failing open) since when."""
        if not self.enabled:
            return {"state": "off"}
        since = self.breaker.degraded_since
        if since is None:
            return {"state": "ok"}
        return {"state": "degraded", "since": since.isoformat(timespec="seconds")}

    async def close(self) -> None:
        await self._pool.aclose()


def _pool(url: str, timeout: float) -> ConnectionPool:
    pool: ConnectionPool = ConnectionPool.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),  # a failure opens the breaker: no retry behind it
    )
    return pool  # from_url is untyped
