"""A tenant's Lexware connection: its own API key (checked, then stored encrypted) and the
status the CRM shows (which key is used, and whether Lexware accepts it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import col

from app.data.tenancy import TenantScope
from app.errors import BadUserInput, LexwareNotConfigured, LexwareUnavailable
from app.lexware.connector import LexwareConnector
from models import LexwareAccount

_KEY = re.compile(r"^[A-Za-z0-9._~+/=-]{16,200}$")


@dataclass(frozen=True)
class LexwareStatus:
    source: str  # TENANT, SERVER or NONE
    key_hint: str | None
    working: bool | None  # None when there is no key to try
    organization: str | None
    message: str | None


async def _stored_hint(scope: TenantScope) -> str | None:
    statement = sa.select(col(LexwareAccount.key_hint)).where(
        col(LexwareAccount.encrypted_api_key).is_not(None)
    )
    async with scope.reading() as reads:
        return (await reads.execute(statement)).scalar_one_or_none()


async def status(connector: LexwareConnector, scope: TenantScope) -> LexwareStatus:
    """Which key the tenant's calls use and whether Lexware accepts it (GET /v1/profile)."""
    hint = await _stored_hint(scope)
    source = "TENANT" if hint else "SERVER"
    try:
        key = await connector.api_key(scope)
    except LexwareNotConfigured as error:
        return LexwareStatus("NONE", None, None, None, error.message)
    try:
        profile = await connector.client_with_key(key, max_wait=5).get("/v1/profile")
    except (LexwareUnavailable, LexwareNotConfigured) as error:
        return LexwareStatus(source, hint, False, None, error.message)
    return LexwareStatus(source, hint, True, profile.get("companyName"), None)


async def set_api_key(
    connector: LexwareConnector, scope: TenantScope, api_key: str | None
) -> LexwareStatus:
    """Store the tenant's own key once Lexware accepts it; None removes it (the server's key,
    if any, serves again)."""
    if connector.cipher is None:
        raise LexwareNotConfigured("Storing tenant keys needs LEXWARE_KEY_SECRET on the server.")
    values: dict[str, Any] = {"encrypted_api_key": None, "key_hint": None}
    if api_key is not None:
        api_key = api_key.strip()
        if not _KEY.match(api_key):
            raise BadUserInput.single("apiKey", "is not a Lexware API key")
        await _check_key(connector, api_key)
        values = {"encrypted_api_key": connector.cipher.encrypt(api_key), "key_hint": api_key[-4:]}
    await _store(scope, values)
    return await status(connector, scope)


async def _check_key(connector: LexwareConnector, api_key: str) -> None:
    try:
        await connector.client_with_key(api_key, max_wait=5).get("/v1/profile")
    except LexwareUnavailable as error:
        if error.details.get("status") in (401, 402, 403):
            raise BadUserInput.single("apiKey", "Lexware Office refused this key") from None
        raise


async def _store(scope: TenantScope, values: dict[str, Any]) -> None:
    # Another key (or none: the server's) may reach another organization, whose vouchers the
    # old cursor would skip: the next sync reads them all again (upserts).
    changed = {
        **values,
        "key_set_at": sa.func.now(),
        "key_set_by_id": scope.actor_id,
        "vouchers_synced_at": None,
    }
    statement = (
        pg_insert(LexwareAccount)
        .values(scope.owned(**changed))
        .on_conflict_do_update(index_elements=["tenant_id"], set_=changed)
    )
    async with scope.writing() as uow:
        old = await uow.execute(sa.select(col(LexwareAccount.key_hint)).with_for_update())
        before = old.scalar_one_or_none()
        await uow.execute(statement)
        verb = "key_set" if values["key_hint"] else "key_removed"
        hints = {"keyHint": [before, values["key_hint"]]}
        uow.record(f"crm.lexware.{verb}", "tenant", scope.tenant_id, hints)
