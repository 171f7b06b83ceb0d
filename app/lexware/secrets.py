"""Tenants' Lexware API keys at rest: encrypted with a key derived from LEXWARE_KEY_SECRET
(Fernet: AES-CBC with an HMAC). In the embedded default a random secret lives in the data dir,
like the development JWT key."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets

from cryptography.fernet import Fernet, InvalidToken

from app.errors import LexwareNotConfigured
from app.settings import Settings


def _embedded_secret(settings: Settings) -> str:
    path = settings.data_dir / "keys" / "lexware-key-secret"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


class KeyCipher:
    def __init__(self, secret: str) -> None:
        digest = hashlib.sha256(b"insight-crm lexware keys\0" + secret.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyCipher | None:
        if settings.lexware_key_secret is not None:
            return cls(settings.lexware_key_secret.get_secret_value())
        if settings.embedded:
            return cls(_embedded_secret(settings))
        return None

    def encrypt(self, api_key: str) -> str:
        return self._fernet.encrypt(api_key.encode()).decode()

    def decrypt(self, stored: str) -> str:
        try:
            return self._fernet.decrypt(stored.encode()).decode()
        except InvalidToken:
            raise LexwareNotConfigured(
                "The stored Lexware key cannot be read (LEXWARE_KEY_SECRET changed?); "
                "an admin must set it again."
            ) from None
