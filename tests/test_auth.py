"""JWT verification, revocation, logout, just-in-time provisioning and roles."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from app.settings import Settings
from tests.conftest import (
    AUDIENCE,
    DROP,
    ISSUER,
    Api,
    Servers,
    Tokens,
    _asyncpg_dsn,
    error_codes,
    serving,
)

ME = "{ me { user { id email name } tenant { id slug } roles } }"
CREATE = 'mutation { createCompany(input: {name: "Probe GmbH"}) { id } }'


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


async def _refused(api: Api, token: str | None) -> dict:
    response = await api.post({"query": ME}, token=token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert "data" not in body  # no resolver ran
    return body


async def test_valid_token_reaches_me(api: Api, tenant: str) -> None:
    data = await api.data(ME)
    assert data["me"]["tenant"]["slug"] == tenant
    assert data["me"]["roles"] == ["admin"]
    assert data["me"]["user"]["email"] == "admin@example.de"


async def test_missing_header_is_refused(api: Api) -> None:
    await _refused(api, None)


async def test_non_bearer_scheme_is_refused(api: Api) -> None:
    response = await api.post({"query": ME}, headers={"authorization": "Basic dXNlcjpwdw=="})
    assert response.status_code == 401


async def test_alg_none_is_refused(api: Api, tenant: str) -> None:
    now = int(time.time())
    claims = {"sub": "x", "iat": now, "exp": now + 60, "tenant": tenant, "roles": ["admin"]}
    header = _b64(orjson.dumps({"alg": "none", "typ": "JWT"}))
    token = f"{header}.{_b64(orjson.dumps(claims))}."
    await _refused(api, token)


async def test_hs256_signed_with_the_public_key_is_refused(
    api: Api, tokens: Tokens, tenant: str
) -> None:
    public_pem = tokens.key.as_pem(private=False)
    now = int(time.time())
    claims = {"iss": "https://auth.test.local", "aud": "insight-crm", "sub": "x", "iat": now}
    claims |= {"exp": now + 60, "tenant": tenant, "roles": ["admin"]}
    # joserfc refuses to build such a key, so forge the token by hand, as an attacker would.
    signing_input = (
        f"{_b64(orjson.dumps({'alg': 'HS256', 'typ': 'JWT'}))}.{_b64(orjson.dumps(claims))}"
    )
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    await _refused(api, f"{signing_input}.{_b64(signature)}")


async def test_token_signed_with_another_key_is_refused(
    api: Api, tokens: Tokens, tenant: str
) -> None:
    stranger = RSAKey.generate_key(2048, private=True)
    await _refused(api, tokens.make(tenant, key=stranger))


async def test_expired_token_is_refused(api: Api, tokens: Tokens, tenant: str) -> None:
    now = int(time.time())
    body = await _refused(api, tokens.make(tenant, iat=now - 600, exp=now - 60))
    assert "expired" in body["errors"][0]["message"]


async def test_expiry_within_leeway_is_accepted(api: Api, tokens: Tokens, tenant: str) -> None:
    now = int(time.time())
    result = await api(ME, token=tokens.make(tenant, iat=now - 600, exp=now - 10))
    assert "errors" not in result


async def test_a_token_verified_before_still_expires(
    api: Api, app: Any, tokens: Tokens, tenant: str
) -> None:
    """The signature of a token is checked once per process; its expiry on every request."""
    authenticator = app.state.runtime.authenticator
    leeway = app.state.runtime.settings.jwt_leeway_seconds
    now = int(time.time())
    token = tokens.make(tenant, iat=now - 600, exp=now - leeway + 2)
    assert "errors" not in await api(ME, token=token)
    hits = authenticator._signed_claims.cache_info().hits
    assert "errors" not in await api(ME, token=token)
    assert authenticator._signed_claims.cache_info().hits == hits + 1
    await asyncio.sleep(3.2)
    body = await _refused(api, token)
    assert "expired" in body["errors"][0]["message"]


@pytest.mark.parametrize("claim", ["nbf", "iat"])
async def test_token_from_the_future_is_refused(
    api: Api, tokens: Tokens, tenant: str, claim: str
) -> None:
    await _refused(api, tokens.make(tenant, **{claim: int(time.time()) + 3600}))


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "tenant", "roles"])
async def test_token_without_required_claim_is_refused(
    api: Api, tokens: Tokens, tenant: str, claim: str
) -> None:
    body = await _refused(api, tokens.make(tenant, **{claim: DROP}))
    assert claim in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("claim", "value"), [("iss", "https://evil.example"), ("aud", "another-api")]
)
async def test_wrong_issuer_or_audience_is_refused(
    api: Api, tokens: Tokens, tenant: str, claim: str, value: str
) -> None:
    await _refused(api, tokens.make(tenant, **{claim: value}))


@pytest.mark.parametrize("claim", ["iss", "aud"])
async def test_missing_issuer_or_audience_is_refused_when_configured(
    api: Api, tokens: Tokens, tenant: str, claim: str
) -> None:
    await _refused(api, tokens.make(tenant, **{claim: DROP}))


async def test_malformed_tenant_claim_is_refused(api: Api, tokens: Tokens) -> None:
    await _refused(api, tokens.make("Not A Slug!"))


async def test_garbage_token_is_refused(api: Api) -> None:
    await _refused(api, "not.a.jwt")


async def test_logout_revokes_the_token(api: Api, tokens: Tokens, tenant: str) -> None:
    token = tokens.make(tenant, "viewer")
    assert (await api.data("mutation { logout }", token=token)) == {"logout": True}
    body = await _refused(api, token)
    assert "revoked" in body["errors"][0]["message"]
    # Another token of the same user is unaffected.
    assert "errors" not in await api(ME, token=tokens.make(tenant, "viewer"))


async def test_revocation_is_keyed_on_issuer_and_jti(api: Api, tokens: Tokens, tenant: str) -> None:
    token = tokens.make(tenant, jti="shared-jti")
    await api.data("mutation { logout }", token=token)
    # Same jti re-encoded with other claims: still revoked, whatever the token text.
    await _refused(api, tokens.make(tenant, jti="shared-jti", name="Other Encoding"))


async def test_first_request_provisions_tenant_and_user(
    api: Api, tokens: Tokens, tenant: str
) -> None:
    first = await api.data(ME, token=tokens.make(tenant, subject="jit-user", email="jit@x.de"))
    again = await api.data(ME, token=tokens.make(tenant, subject="jit-user", email="jit@x.de"))
    assert first["me"]["user"]["id"] == again["me"]["user"]["id"]
    assert first["me"]["tenant"]["id"] == again["me"]["tenant"]["id"]
    other = await api.data(ME, token=tokens.make(tenant, subject="someone-else"))
    assert other["me"]["tenant"]["id"] == first["me"]["tenant"]["id"]
    assert other["me"]["user"]["id"] != first["me"]["user"]["id"]


async def test_changed_profile_claims_update_the_user(
    api: Api, tokens: Tokens, tenant: str
) -> None:
    await api.data(ME, token=tokens.make(tenant, subject="renamed", name="Old Name"))
    data = await api.data(ME, token=tokens.make(tenant, subject="renamed", name="New Name"))
    assert data["me"]["user"]["name"] == "New Name"


async def test_viewer_reads_but_cannot_write(api: Api) -> None:
    assert "errors" not in await api("{ companies { totalCount } }", role="viewer")
    result = await api(CREATE, role="viewer")
    assert error_codes(result) == ["FORBIDDEN"]
    assert (await api.data("{ companies { totalCount } }"))["companies"]["totalCount"] == 0


async def test_member_writes_crm_data(api: Api) -> None:
    assert "errors" not in await api(CREATE, role="member")


@pytest.mark.parametrize(
    "roles", [["superuser"], ["Admin"], ["VIEWER", "billing"], [], "superuser billing"]
)
async def test_a_token_without_a_known_role_is_refused_and_writes_nothing(
    api: Api, tokens: Tokens, tenant: str, servers: Servers, roles: list[str] | str
) -> None:
    """Role names match exactly ("Admin" is not "admin"); nothing is provisioned for such a
    token: no user in a tenant that exists, no tenant for a slug never seen."""
    await api.data(ME)  # the tenant exists, with its admin
    new_tenant = f"{tenant}-new"
    for slug in (tenant, new_tenant):
        body = await _refused(api, tokens.make(slug, role=None, subject="intruder", roles=roles))
        assert "none of the roles" in body["errors"][0]["message"]
    users = await api.data("{ users { name } }")
    assert users["users"] == [{"name": "Admin"}]
    connection = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    try:
        tenants = await connection.fetchval(
            "SELECT count(*) FROM tenant WHERE slug = $1", new_tenant
        )
        intruders = await connection.fetchval(
            'SELECT count(*) FROM "user" WHERE subject = $1', "intruder"
        )
    finally:
        await connection.close()
    assert (tenants, intruders) == (0, 0)


async def test_unknown_roles_next_to_a_known_one_are_ignored(
    api: Api, tokens: Tokens, tenant: str
) -> None:
    token = tokens.make(tenant, role=None, roles=["superuser", "viewer", "Admin"])
    assert (await api.data(ME, token=token))["me"]["roles"] == ["viewer"]
    assert error_codes(await api(CREATE, token=token)) == ["FORBIDDEN"]


async def test_token_without_jti_is_refused_because_it_could_not_be_revoked(
    api: Api, tokens: Tokens, tenant: str
) -> None:
    body = await _refused(api, tokens.make(tenant, jti=DROP))
    assert "jti" in body["errors"][0]["message"]


async def test_overlong_subject_is_refused_not_cut(api: Api, tokens: Tokens, tenant: str) -> None:
    await _refused(api, tokens.make(tenant, subject="s" * 256))


async def test_only_rs256_is_accepted_even_when_the_key_set_holds_other_keys(
    settings: Settings, tokens: Tokens, tenant: str, tmp_path: Path
) -> None:
    rsa_public = RSAKey.import_key(tokens.key.as_pem(private=False), {"kid": "rsa"})
    ec_key = ECKey.generate_key("P-256", {"kid": "ec"}, private=True)
    jwks = tmp_path / "jwks.json"
    keys = KeySet([rsa_public, ECKey.import_key(ec_key.as_dict(private=False))])
    jwks.write_bytes(orjson.dumps(keys.as_dict(private=False)))
    with_jwks = settings.model_copy(update={"jwt_public_key": None, "jwt_jwks_file": jwks})
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "iat": now, "exp": now + 60}
    claims |= {"jti": "j", "tenant": tenant, "roles": ["admin"]}
    es256 = jwt.encode({"alg": "ES256", "kid": "ec"}, claims, ec_key)
    rs256 = tokens.make(tenant, header={"alg": "RS256", "kid": "rsa"})
    async with serving(with_jwks) as http:
        refused = await http.post("/graphql", json={"query": ME}, headers=_bearer(es256))
        accepted = await http.post("/graphql", json={"query": ME}, headers=_bearer(rs256))
    assert refused.status_code == 401
    assert accepted.status_code == 200 and "errors" not in accepted.json()


async def test_revocation_of_one_issuer_does_not_revoke_the_same_jti_of_another(
    settings: Settings, tokens: Tokens, tenant: str
) -> None:
    any_issuer = settings.model_copy(update={"jwt_issuer": None})
    revoked = tokens.make(tenant, jti="same-jti", iss="https://idp-a.example")
    other_issuer = tokens.make(tenant, jti="same-jti", iss="https://idp-b.example")
    async with serving(any_issuer) as http:
        logout = await http.post(
            "/graphql", json={"query": "mutation { logout }"}, headers=_bearer(revoked)
        )
        assert logout.json()["data"] == {"logout": True}
        again = await http.post("/graphql", json={"query": ME}, headers=_bearer(revoked))
        other = await http.post("/graphql", json={"query": ME}, headers=_bearer(other_issuer))
    assert again.status_code == 401
    assert other.status_code == 200 and "errors" not in other.json()


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}
