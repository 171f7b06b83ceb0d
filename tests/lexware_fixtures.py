"""An app wired to a fake Lexware server on 127.0.0.1, and a tenant connected with its own key."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from app.settings import Settings
from app.web.asgi import create_app
from fake_lexware.server import FakeLexware, running_fake
from tests.conftest import Api, Tokens

SET_KEY = "mutation($k: String) { setLexwareApiKey(apiKey: $k) { source keyHint working organization message } }"
ACME = {
    "version": 0,
    "roles": {"customer": {}},
    "company": {
        "name": "Acme & Söhne GmbH",
        "vatRegistrationId": "DE123456788",
        "taxNumber": "12/345/67890",
    },
    "addresses": {
        "billing": [
            {"street": "Hauptstr. 5", "zip": "70173", "city": "Stuttgart", "countryCode": "DE"}
        ]
    },
    "emailAddresses": {"business": ["info@acme.de"]},
    "phoneNumbers": {"business": ["+49 711 123456"]},
}
PERSON = {
    "version": 0,
    "roles": {"customer": {}},
    "person": {"salutation": "Frau", "firstName": "Inge", "lastName": "Musterfrau"},
    "emailAddresses": {"private": ["inge@example.de"]},
}


@dataclass
class Lexware:
    api: Api
    fake: FakeLexware
    key: str
    app: Starlette

    def seed(self, contact: dict[str, Any]) -> dict[str, Any]:
        return self.fake.seed_contact(self.key, contact)

    def calls(self, method: str | None = None) -> list[Any]:
        return [
            r
            for r in self.fake.requests
            if r.api_key == self.key and (method is None or r.method == method)
        ]


@pytest.fixture(scope="module")
async def fake_lexware() -> AsyncIterator[tuple[str, FakeLexware]]:
    async with running_fake(FakeLexware(rate_limit_enabled=False)) as running:
        yield running


@pytest.fixture(scope="module")
async def lexware_app(
    settings: Settings, fake_lexware: tuple[str, FakeLexware]
) -> AsyncIterator[Starlette]:
    url, _fake = fake_lexware
    own = settings.model_copy(
        update={
            "lexware_base_url": url,
            "lexware_key_secret": SecretStr("test-secret"),
            "lexware_request_interval_ms": 5,
            "lexware_max_attempts": 3,
        }
    )
    application = create_app(own)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def lexware(
    lexware_app: Starlette, fake_lexware: tuple[str, FakeLexware], tokens: Tokens, tenant: str
) -> AsyncIterator[Lexware]:
    """A tenant connected to its own (fake) Lexware organization."""
    _url, fake = fake_lexware
    fake.rate_limit_enabled = False
    key = f"key-{uuid.uuid4().hex}"
    fake.add_api_key(key)
    transport = httpx.ASGITransport(app=lexware_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        api = Api(http, tokens, tenant)
        status = await api.data(SET_KEY, {"k": key})
        assert status["setLexwareApiKey"]["working"] is True
        yield Lexware(api, fake, key, lexware_app)
