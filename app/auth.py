"""Authentication: verify the auth service's RS256 JWT, check revocation, resolve the principal.

Every failure is `Unauthenticated`; the GraphQL layer runs no resolver for such a request.
A database outage while authenticating (or a view of the revocations too old to trust, when
the database has been away that long) is `ServiceUnavailable` (or `Timeout`). Redis is not
asked: revocations are read from PostgreSQL into each process's view (app/revocations.py).
"""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwt import JWTClaimsRegistry

from app.data.failures import naming_database_failures
from app.errors import BadUserInput, Unauthenticated
from app.keys import ALGORITHM, VerificationKey
from app.revocations import RevocationView
from app.services.members.rules import MemberIdentity
from app.services.members.service import MemberDirectory
from app.settings import Settings

# Matched exactly, as the auth service spells them: "Admin" is not "admin". A token needs at
# least one of them; roles unknown here are ignored.
ROLES = ("admin", "member", "viewer")
NO_KNOWN_ROLE = f"Token carries none of the roles {', '.join(ROLES)}."
MAX_TOKEN_BYTES = 8192
_TENANT_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
SIGNATURES_REMEMBERED = 1024  # tokens; a client sends the same one until it expires


@dataclass(frozen=True)
class VerifiedToken:
    issuer: str | None
    jti: str | None
    expires_at: int
    subject: str
    tenant_slug: str
    roles: frozenset[str]
    email: str | None
    name: str | None
    email_verified: bool = False  # the token says so (`email_verified_claim`)


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    tenant_slug: str
    roles: frozenset[str]
    token: VerifiedToken

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def can_write(self) -> bool:
        return bool(self.roles & {"admin", "member"})

    @property
    def can_read(self) -> bool:
        return bool(self.roles)


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("Missing Authorization header (expected 'Bearer <token>').")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization header must be 'Bearer <token>'.")
    return token.strip()


class Authenticator:
    def __init__(
        self,
        settings: Settings,
        key: VerificationKey,
        revocations: RevocationView,
        members: MemberDirectory,
    ) -> None:
        self._settings = settings
        self._key = key
        self.revocations = revocations
        self._members = members
        self._registry = self._claims_registry(settings)
        # The signature check (two thirds of authenticating) is done once per token text: the
        # same text verifies the same way while this process has this key. A failure raises,
        # and lru_cache keeps no exceptions; the time claims are checked on every use.
        self._signed_claims = functools.lru_cache(maxsize=SIGNATURES_REMEMBERED)(
            self._check_signature
        )

    @staticmethod
    def _claims_registry(settings: Settings) -> JWTClaimsRegistry:
        options: dict[str, Any] = {
            "exp": {"essential": True},
            "iat": {"essential": True},
            "sub": {"essential": True},
            settings.jwt_tenant_claim: {"essential": True},
            settings.jwt_roles_claim: {"essential": True},
        }
        if settings.jwt_require_jti:
            # Without a jti a token cannot be revoked, so by default it is not accepted.
            options["jti"] = {"essential": True}
        if settings.jwt_issuer:
            options["iss"] = {"essential": True, "value": settings.jwt_issuer}
        if settings.jwt_audience:
            options["aud"] = {"essential": True, "value": settings.jwt_audience}
        return JWTClaimsRegistry(leeway=settings.jwt_leeway_seconds, **options)

    async def authenticate(self, authorization: str | None) -> Principal:
        token = self.verify(bearer_token(authorization))
        if await self.is_revoked(token):
            raise Unauthenticated("Token has been revoked.")
        async with naming_database_failures():
            ids = await self._members.resolve(
                MemberIdentity(
                    token.tenant_slug, token.subject, token.email, token.name, token.email_verified
                )
            )
        return Principal(ids.user_id, ids.tenant_id, token.tenant_slug, token.roles, token)

    def verify(self, raw: str) -> VerifiedToken:
        """Signature (RS256 only) and claims; raises Unauthenticated with the reason."""
        if len(raw) > MAX_TOKEN_BYTES:
            raise Unauthenticated("Token is too large.")
        try:
            claims = dict(self._signed_claims(raw))  # a copy: the cached one stays as signed
            self._registry.validate(claims)
        except ExpiredTokenError:
            raise Unauthenticated("Token has expired.") from None
        except MissingClaimError as error:
            raise Unauthenticated(f"Token is missing a required claim: {error.claim}.") from None
        except InvalidClaimError as error:  # an essential claim that is empty: "roles": []
            if error.claim == self._settings.jwt_roles_claim:
                raise Unauthenticated(NO_KNOWN_ROLE) from None
            raise Unauthenticated(f"Invalid token: {error.error}.") from None
        except JoseError as error:
            raise Unauthenticated(f"Invalid token: {error.error}.") from None
        except (ValueError, TypeError):
            raise Unauthenticated("Invalid token.") from None
        return self._claims_of(claims)

    def _check_signature(self, raw: str) -> dict[str, Any]:
        """The claims of a token signed by our key with RS256 (not yet checked)."""
        claims: dict[str, Any] = jwt.decode(raw, self._key, algorithms=[ALGORITHM]).claims
        return claims

    def _claims_of(self, claims: dict[str, Any]) -> VerifiedToken:
        s = self._settings
        tenant = claims[s.jwt_tenant_claim]
        if not isinstance(tenant, str) or not _TENANT_SLUG.match(tenant):
            raise Unauthenticated("Token tenant claim is not a valid tenant slug.")
        roles = claims[s.jwt_roles_claim]
        if isinstance(roles, str):
            roles = roles.split()
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Unauthenticated(
                "Token roles claim must be a list of strings (or one space-separated string)."
            )
        known = frozenset(r for r in roles if r in ROLES)
        if not known:
            # Checked before anything is written: such a token provisions no tenant or user.
            raise Unauthenticated(NO_KNOWN_ROLE)
        jti = claims.get("jti")
        subject = claims["sub"]
        if not isinstance(subject, str) or not 0 < len(subject) <= 255:
            raise Unauthenticated("Token subject must be a string of at most 255 characters.")
        return VerifiedToken(
            issuer=claims.get("iss"),
            jti=jti if isinstance(jti, str) else None,
            expires_at=int(claims["exp"]),
            subject=subject,
            tenant_slug=tenant,
            roles=known,
            email=_fitting_text(claims.get(s.jwt_email_claim), 320),
            name=_fitting_text(claims.get(s.jwt_name_claim), 200),
            email_verified=email_verified_claim(
                claims.get("email_verified"), assumed=s.jwt_assume_email_verified
            ),
        )

    async def is_revoked(self, token: VerifiedToken) -> bool:
        """From this process's view of the revocations (app/revocations.py): no Redis and no
        SQL per request. A view too old to trust is SERVICE_UNAVAILABLE (fail closed)."""
        if token.jti is None:
            return False
        return await self.revocations.is_revoked(token.issuer, token.jti)

    async def revoke(self, token: VerifiedToken) -> None:
        """Revoke the token (durably, in PostgreSQL) until it would have expired anyway."""
        if token.jti is None:
            raise BadUserInput.single("token", "this token has no jti and cannot be revoked")
        expires = token.expires_at + self._settings.jwt_leeway_seconds
        await self.revocations.revoke(token.issuer, token.jti, token.tenant_slug, expires)


def email_verified_claim(value: object, *, assumed: bool) -> bool:
    """OpenID Connect's `email_verified`: only a verified e-mail may take over a user an admin
    added for it (and their ownerships). True is `true`, or the string "true" some providers
    send; anything else is not verified. A token without the claim (or with null) counts as
    `assumed` (JWT_ASSUME_EMAIL_VERIFIED, for auth services that verify every address and
    never say so)."""
    if value is None:
        return assumed
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _fitting_text(value: object, limit: int) -> str | None:
    """A profile claim as given, or nothing: a cut e-mail address would be a wrong one."""
    return value if isinstance(value, str) and 0 < len(value) <= limit else None
