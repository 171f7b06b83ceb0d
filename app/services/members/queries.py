"""Reading the caller's own tenant and user (`me`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.data.tenancy import TenantScope
from models import Tenant, User


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
            col(User.signed_in_at),
        )
        .join(User, col(User.tenant_id) == col(Tenant.id))
        .where(col(User.id) == scope.actor_id)
    )
    async with scope.reading() as reads:
        row = (await reads.execute(statement)).one()
    return MemberProfile(
        tenant={"id": row.id, "slug": row.slug, "name": row.name},
        user={
            "id": row.user_id,
            "email": row.email,
            "name": row.user_name,
            "signed_in_at": row.signed_in_at,
        },
    )
