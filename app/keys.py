"""JWT keys: the verification key set from settings, and development keys in the data dir.

In production the auth service signs tokens and we only hold its public key (PEM or JWKS).
In the embedded default, with no key configured, a development RSA pair lives in the data
dir so that `insight-crm token` can sign tokens the local server accepts.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import orjson
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from app.settings import Settings, SettingsError

DEV_ISSUER = "insight-crm-dev"
ALGORITHM = "RS256"
_TTL = re.compile(r"^(\d+)([smhd])$")
_TTL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_TTL_SECONDS = 365 * 86400  # a development token; an `exp` past year 9999 breaks verifiers


def _dev_key_path(data_dir: Path) -> Path:
    return data_dir / "keys" / "jwt-dev-private.pem"


def ensure_dev_key(data_dir: Path) -> RSAKey:
    """Load the development signing key, generating it on first use (mode 0600)."""
    path = _dev_key_path(data_dir)
    if path.exists():
        return RSAKey.import_key(path.read_bytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = RSAKey.generate_key(2048, private=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.as_pem(private=True))
    tmp.replace(path)
    return key


VerificationKey = KeySet | RSAKey


def verification_keys(settings: Settings) -> VerificationKey:
    """The keys that may sign tokens this server accepts; a readable error when unusable."""
    try:
        if settings.jwt_jwks_file is not None:
            return KeySet.import_key_set(orjson.loads(settings.jwt_jwks_file.read_bytes()))
        pem: bytes | None = None
        if settings.jwt_public_key is not None:
            pem = settings.jwt_public_key.get_secret_value().encode()
        elif settings.jwt_public_key_file is not None:
            pem = settings.jwt_public_key_file.read_bytes()
    except (JoseError, ValueError, TypeError, orjson.JSONDecodeError) as error:
        raise SettingsError(f"the configured JWT key cannot be read: {error}") from None
    if pem is not None:
        return _public_rsa_key(pem)
    if settings.embedded:
        dev = ensure_dev_key(settings.data_dir)
        return RSAKey.import_key(dev.as_pem(private=False))
    raise SettingsError(
        "no JWT verification key: set JWT_PUBLIC_KEY, JWT_PUBLIC_KEY_FILE or JWT_JWKS_FILE "
        "(development keys exist only in the embedded default)"
    )


def _public_rsa_key(pem: bytes) -> RSAKey:
    try:
        key = RSAKey.import_key(pem)
    except (JoseError, ValueError, TypeError) as error:
        raise SettingsError(f"JWT public key is not an RSA PEM key: {error}") from None
    return RSAKey.import_key(key.as_pem(private=False))


def parse_ttl(text: str) -> int:
    """'90s', '30m', '8h', '7d' -> seconds (up to 365 days)."""
    match = _TTL.match(text.strip())
    seconds = int(match.group(1)) * _TTL_UNITS[match.group(2)] if match else 0
    if not 0 < seconds <= MAX_TTL_SECONDS:
        raise ValueError(
            f"invalid TTL {text!r}: use a number with s, m, h or d up to 365d, e.g. 8h"
        )
    return seconds


@dataclass(frozen=True)
class DevTokenRequest:
    tenant: str
    email: str
    role: str
    ttl_seconds: int
    name: str | None = None


def sign_dev_token(settings: Settings, request: DevTokenRequest) -> str:
    """A token signed with the development key, carrying the claims the server requires."""
    key = ensure_dev_key(settings.data_dir)
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": settings.jwt_issuer or DEV_ISSUER,
        "sub": request.email,
        "iat": now,
        "exp": now + request.ttl_seconds,
        "jti": str(uuid.uuid4()),
        settings.jwt_tenant_claim: request.tenant,
        settings.jwt_roles_claim: [request.role],
        settings.jwt_email_claim: request.email,
        # The developer vouches for the address: its token becomes a user added for it.
        "email_verified": True,
        settings.jwt_name_claim: request.name or request.email.split("@")[0].title(),
    }
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    header = {"alg": ALGORITHM, "kid": key.thumbprint()}
    return jwt.encode(header, claims, key)
