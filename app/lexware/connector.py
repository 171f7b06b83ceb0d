"""Which Lexware key a tenant's calls use, and the process's shared HTTP session and limiter.

A tenant's own key (set by an admin, stored encrypted) wins; the environment key serves the
others (a single-tenant deployment). With neither, the module is off for that tenant:
LEXWARE_NOT_CONFIGURED, and everything else works.
"""

from __future__ import annotations

import uuid

import aiohttp
import sqlalchemy as sa
from redis.asyncio import Redis
from sqlmodel import col

from app.data.tenancy import TenantScope
from app.errors import LexwareNotConfigured
from app.lexware.client import LexwareClient, RetryPolicy
from app.lexware.limiter import RateLimiter
from app.lexware.secrets import KeyCipher
from app.settings import Settings
from models import LexwareAccount, Tenant

NOT_CONFIGURED = (
    "Lexware Office is not connected: an admin sets the tenant's API key (setLexwareApiKey), "
    "or the server's LEXWARE_API_KEY is set."
)


class LexwareConnector:
    def __init__(self, settings: Settings, redis: Redis) -> None:
        self.settings = settings
        self.redis = redis
        self.limiter = RateLimiter(redis, interval_ms=settings.lexware_request_interval_ms)
        self.cipher = KeyCipher.from_settings(settings)
        self._http: aiohttp.ClientSession | None = None
        self._slugs: dict[uuid.UUID, str] = {}

    def http(self) -> aiohttp.ClientSession:
        """Created on first use, inside the running event loop."""
        if self._http is None or self._http.closed:
            timeout = aiohttp.ClientTimeout(total=self.settings.lexware_timeout_seconds)
            self._http = aiohttp.ClientSession(timeout=timeout, raise_for_status=False)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def api_key(self, scope: TenantScope) -> str:
        statement = sa.select(col(LexwareAccount.encrypted_api_key))
        async with scope.reading() as session:
            stored = (await session.execute(statement)).scalar_one_or_none()
        if stored:
            if self.cipher is None:
                raise LexwareNotConfigured("LEXWARE_KEY_SECRET is needed to read tenant keys.")
            return self.cipher.decrypt(stored)
        if self.settings.lexware_api_key is not None and await self._server_key_serves(scope):
            return self.settings.lexware_api_key.get_secret_value()
        raise LexwareNotConfigured(NOT_CONFIGURED)

    async def _server_key_serves(self, scope: TenantScope) -> bool:
        """The server's key belongs to LEXWARE_API_KEY_TENANT when that is set: another
        tenant must never see that organization's customers."""
        owner = self.settings.lexware_api_key_tenant
        if owner is None:
            return True
        if scope.tenant_id not in self._slugs:
            statement = sa.select(col(Tenant.slug)).where(col(Tenant.id) == scope.tenant_id)
            async with scope.reading() as session:
                self._slugs[scope.tenant_id] = (await session.execute(statement)).scalar_one()
        return self._slugs[scope.tenant_id] == owner

    async def client(self, scope: TenantScope, *, max_wait: float | None = None) -> LexwareClient:
        """The tenant's client; `max_wait`: how long a call may queue for the rate limit
        (interactive calls short, crons long)."""
        return self.client_with_key(await self.api_key(scope), max_wait=max_wait)

    def client_with_key(self, api_key: str, *, max_wait: float | None = None) -> LexwareClient:
        policy = RetryPolicy(
            attempts=self.settings.lexware_max_attempts,
            max_wait_for_slot=max_wait or self.settings.lexware_max_wait_seconds,
        )
        return LexwareClient(
            self.http(), self.settings.lexware_base_url, api_key, self.limiter, policy
        )

    def deep_link(self, path: str, lexware_id: object) -> str:
        return f"{self.settings.lexware_app_url.rstrip('/')}/permalink/{path}/view/{lexware_id}"
