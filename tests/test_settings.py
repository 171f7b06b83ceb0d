"""Settings validation and the JWT key sources."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from joserfc.jwk import KeySet, RSAKey

from app.keys import ensure_dev_key, verification_keys
from app.settings import SettingsError, load_settings

SERVERS = {"database_url": "postgresql://db/crm", "redis_url": "redis://cache:6379/0"}


def test_missing_key_outside_embedded_mode_is_a_start_error() -> None:
    settings = load_settings(**SERVERS, _env_file=None)
    with pytest.raises(SettingsError, match="no JWT verification key"):
        verification_keys(settings)


def test_embedded_mode_generates_a_development_key(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, _env_file=None)
    key = verification_keys(settings)
    assert isinstance(key, RSAKey) and not key.is_private
    private = tmp_path / "keys" / "jwt-dev-private.pem"
    assert private.stat().st_mode & 0o777 == 0o600
    assert ensure_dev_key(tmp_path).as_pem(private=False) == key.as_pem(private=False)


def test_public_key_from_text_file_or_jwks(tmp_path: Path) -> None:
    key = RSAKey.generate_key(2048, private=True)
    pem = key.as_pem(private=False)
    (tmp_path / "key.pem").write_bytes(pem)
    jwks = tmp_path / "jwks.json"
    jwks.write_bytes(orjson.dumps(KeySet([key]).as_dict(private=False)))
    for source in (
        {"jwt_public_key": pem.decode()},
        {"jwt_public_key_file": tmp_path / "key.pem"},
        {"jwt_jwks_file": jwks},
    ):
        assert verification_keys(load_settings(**SERVERS, **source, _env_file=None))


def test_unreadable_key_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not an RSA PEM key"):
        verification_keys(load_settings(**SERVERS, jwt_public_key="hello", _env_file=None))
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(**SERVERS, jwt_public_key_file=tmp_path / "nope.pem", _env_file=None)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"database_url": "mysql://db/crm"}, "DATABASE_URL must be a postgresql"),
        ({"redis_url": "http://cache"}, "REDIS_URL must be"),
        ({"max_page_size": 0}, "max_page_size"),
        ({"max_query_cost": 0}, "max_query_cost"),
        ({"jwt_public_key": "a", "jwt_jwks_file": "/etc/hosts"}, "only one of"),
        ({"redis_socket_timeout_seconds": 0}, "redis_socket_timeout_seconds"),
        (
            {"revocation_refresh_seconds": 10, "revocation_max_staleness_seconds": 5},
            "REVOCATION_MAX_STALENESS_SECONDS must be at least",
        ),
    ],
)
def test_invalid_settings_name_the_problem(override: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(**{**SERVERS, **override}, _env_file=None)


def test_cors_origins_from_a_comma_separated_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://crm.example.de, https://admin.example.de")
    settings = load_settings(**SERVERS, _env_file=None)
    assert settings.cors_origins == ["https://crm.example.de", "https://admin.example.de"]
