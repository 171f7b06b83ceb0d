"""Tenants and members, provisioned just in time from verified tokens.

The auth service is the source of truth: an unknown tenant slug in a valid token creates the
tenant, an unknown subject of a known tenant becomes a member. A user an admin added ahead of
their first sign-in (`add_user`: e-mail and name, no subject yet) becomes the member of the
first token of that tenant whose e-mail claim matches (ignoring case) and whose subject the
tenant does not know, if the token says the e-mail is verified: that token's subject is
bound to the row, once; a user that has a subject is never bound again. Ids never change
once created, so each process remembers them (bounded) and asks the database only on a miss.
(Reads: queries.py; the identity and the binding rule: rules.py.)
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.data import records
from app.data.tenancy import TenantScope, system_session
from app.errors import Conflict
from app.services.common.validation import validate
from app.services.members.rows import UserRow
from app.services.members.rules import NEW_USER, MemberIdentity, MemberIds, NewUserInput, _may_bind
from models import User

# One statement, in the order it decides: the tenant (created on first sight); the user an
# admin added with this e-mail, bound to this subject if the tenant does not know the subject
# yet (a concurrent binding of the same row waits for the first and then finds it bound: the
# UPDATE checks `subject IS NULL` again on the row it waited for); else the member of this
# subject, created or refreshed. A token without an e-mail or name keeps the stored one.
_UPSERT_MEMBER = sa.text(
    """
    WITH t AS (
        INSERT INTO tenant (slug, name) VALUES (:slug, :slug)
        ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug
        RETURNING id
    ),
    waiting AS (
        UPDATE "user" AS u
        SET subject = :subject, email = coalesce(:email, u.email),
            name = coalesce(:name, u.name), signed_in_at = now(), updated_at = now()
        FROM t
        WHERE u.tenant_id = t.id AND u.subject IS NULL AND :may_bind
          AND lower(u.email) = lower(:email)
          AND NOT EXISTS (SELECT FROM "user" k WHERE k.tenant_id = t.id AND k.subject = :subject)
        RETURNING u.tenant_id, u.id
    ),
    member AS (
        INSERT INTO "user" (tenant_id, subject, email, name, signed_in_at)
        SELECT id, :subject, :email, :name, now() FROM t WHERE NOT EXISTS (SELECT FROM waiting)
        ON CONFLICT (tenant_id, subject) DO UPDATE
            SET email = coalesce(EXCLUDED.email, "user".email),
                name = coalesce(EXCLUDED.name, "user".name), updated_at = now()
        RETURNING tenant_id, id
    )
    SELECT tenant_id, id FROM waiting UNION ALL SELECT tenant_id, id FROM member
    """
).bindparams(sa.bindparam("may_bind", type_=sa.Boolean()))


# A first sign-in with an e-mail and addUser of that e-mail decide on what the other wrote
# (is there a user with it? one waiting to be bound?): in one tenant, one of them at a time
# per address, each deciding in a statement after the lock, which sees what the other
# committed. A transaction's lock, keyed by the tenant's slug (a sign-in may create the
# tenant) and the address as the rows compare it (lower()).
_LOCK_EMAIL_AT_SIGN_IN = sa.text(
    "SELECT pg_advisory_xact_lock("
    "hashtextextended('crm:user-email:' || :slug || ':' || lower(:email), 0))"
)
_LOCK_EMAIL_TO_ADD = sa.text(
    "SELECT pg_advisory_xact_lock("
    "hashtextextended('crm:user-email:' || slug || ':' || lower(:email), 0))"
    " FROM tenant WHERE id = :tenant"
)


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
            if identity.email is not None:
                lock = {"slug": identity.tenant_slug, "email": identity.email}
                await session.execute(_LOCK_EMAIL_AT_SIGN_IN, lock)
            row = (
                await session.execute(
                    _UPSERT_MEMBER,
                    {
                        "slug": identity.tenant_slug,
                        "subject": identity.subject,
                        "email": identity.email,
                        "name": identity.name,
                        "may_bind": _may_bind(identity),
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


# ---- users added by an admin before their first sign-in -----------------------------------


async def add_user(scope: TenantScope, data: dict[str, Any]) -> UserRow:
    """A user of the tenant who has not signed in yet (assignable as owner at once); their
    first token with this e-mail (verified) becomes them. An e-mail any user of the tenant
    has is a CONFLICT (naming that user), also one signing in with it at this moment."""
    values = validate(NewUserInput, data).model_dump()
    taken = sa.select(col(User.id)).where(
        sa.func.lower(col(User.email)) == sa.func.lower(values["email"])
    )
    insert = sa.insert(User).values(scope.owned(**values)).returning(*NEW_USER.columns)
    with records.constraint_errors(NEW_USER.constraint_errors):
        async with scope.writing() as uow:
            lock = {"tenant": scope.tenant_id, "email": values["email"]}
            await uow.execute(_LOCK_EMAIL_TO_ADD, lock)
            holder = (await uow.execute_rows(taken.limit(1))).scalar_one_or_none()
            if holder is not None:
                raise Conflict(
                    "A user of this tenant has this e-mail address already.",
                    userId=str(holder),
                )
            row = (await uow.execute_rows(insert)).one()
            records.record_created(uow, NEW_USER, row)
    return row
