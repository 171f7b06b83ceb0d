"""Tenants and members, provisioned just in time from verified tokens.

The auth service is the source of truth: an unknown tenant slug in a valid token creates the
tenant, an unknown subject of a known tenant becomes a member. Ids never change once created,
so each process remembers them (bounded) and asks the database only on a miss.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.tenancy import TenantScope, system_session
from models import Tenant, User

_UPSERT_MEMBER = sa.text(
    """
    WITH t AS (
        INSERT INTO tenant (slug, name) VALUES (:slug, :slug)
        ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug
        RETURNING id
    )
    INSERT INTO "user" (tenant_id, subject, email, name)
    SELECT id, :subject, :email, :name FROM t
    ON CONFLICT (tenant_id, subject)
        DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name, updated_at = now()
    RETURNING tenant_id, id
    """
)


@dataclass(frozen=True)
class MemberIdentity:
    tenant_slug: str
    subject: str
    email: str | None
    name: str | None


@dataclass(frozen=True)
class MemberIds:
    tenant_id: uuid.UUID
    user_id: uuid.UUID


class MemberDirectory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], cache_size: int = 10_000):
        self._sessions = sessions
        self._cache: OrderedDict[MemberIdentity, MemberIds] = OrderedDict()
        self._cache_size = cache_size

    async def resolve(self, identity: MemberIdentity) -> MemberIds:
        """Tenant and user ids for a verified identity, creating them on first sight."""
        cached = self._cache.get(identity)
        if cached is not None:
            self._cache.move_to_end(identity)
            return cached
        async with system_session(self._sessions) as session:
            row = (
                await session.execute(
                    _UPSERT_MEMBER,
                    {
                        "slug": identity.tenant_slug,
                        "subject": identity.subject,
                        "email": identity.email,
                        "name": identity.name,
                    },
                )
            ).one()
        ids = MemberIds(tenant_id=row.tenant_id, user_id=row.id)
        self._cache[identity] = ids
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return ids

    def forget(self) -> None:
        self._cache.clear()


@dataclass(frozen=True)
class MemberProfile:
    tenant: Any
    user: Any


async def member_profile(scope: TenantScope) -> MemberProfile:
    """The caller's tenant and user rows, in one statement."""
    statement: Any = (
        sa.select(
            col(Tenant.id),
            col(Tenant.slug),
            col(Tenant.name),
            col(User.id).label("user_id"),
            col(User.email),
            col(User.name).label("user_name"),
        )
        .join(User, col(User.tenant_id) == col(Tenant.id))
        .where(col(User.id) == scope.actor_id)
    )
    async with scope.reading() as session:
        row = (await session.execute(statement)).one()
    return MemberProfile(
        tenant={"id": row.id, "slug": row.slug, "name": row.name},
        user={"id": row.user_id, "email": row.email, "name": row.user_name},
    )
