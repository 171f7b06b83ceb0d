"""Transport rules beyond the limits: introspection switch, CORS, WebSocket, error masking."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import asyncpg
import httpx
import pytest
from graphql import GraphQLError

from app.data.failures import database_failure
from app.settings import Settings
from resolvers.errors import MASKED_MESSAGE, apply_error_policy
from tests.conftest import Api, Tokens, error_codes, serving
from tests.test_health import DEAD_POSTGRES

INTROSPECTION = "{ __schema { queryType { name } } }"


@pytest.fixture
async def locked_down(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    production = settings.model_copy(
        update={
            "introspection": False,
            "graphiql": False,
            "cors_origins": ["https://crm.example.de"],
        }
    )
    async with serving(production) as http:
        yield http


async def test_introspection_is_on_by_default(api: Api) -> None:
    assert (await api.data(INTROSPECTION))["__schema"]["queryType"]["name"] == "Query"


async def test_introspection_and_graphiql_can_be_switched_off(
    locked_down: httpx.AsyncClient, tokens: Tokens, tenant: str
) -> None:
    headers = {"authorization": f"Bearer {tokens.make(tenant)}"}
    result = (
        await locked_down.post("/graphql", json={"query": INTROSPECTION}, headers=headers)
    ).json()
    assert set(error_codes(result)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "introspection" in result["errors"][0]["message"].lower()
    ok = await locked_down.post("/graphql", json={"query": "{ me { roles } }"}, headers=headers)
    assert "errors" not in ok.json()
    page = await locked_down.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 404


async def test_cors_allows_only_configured_origins(locked_down: httpx.AsyncClient) -> None:
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization",
    }
    allowed = await locked_down.options(
        "/graphql", headers={"origin": "https://crm.example.de", **preflight}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://crm.example.de"
    refused = await locked_down.options(
        "/graphql", headers={"origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in refused.headers


def test_unexpected_resolver_errors_are_masked_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    bug = GraphQLError("boom", path=["companies"], original_error=KeyError("secret detail"))
    with caplog.at_level(logging.ERROR):
        [masked] = apply_error_policy([bug], "req-42")
    assert masked.message == MASKED_MESSAGE
    assert masked.extensions == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"}
    assert "secret detail" not in masked.message
    assert "req-42" in caplog.text and "secret detail" in caplog.text


async def raised(awaitable: Awaitable[object]) -> BaseException:
    try:
        await awaitable
    except Exception as error:
        return error
    raise AssertionError("it did not fail")


async def _our_timeout() -> None:
    async with asyncio.timeout(0):
        await asyncio.sleep(1)


async def _our_missing_file() -> None:
    await asyncio.to_thread(Path("/nonexistent/insight-crm").read_text)


async def test_only_connection_failures_are_outages(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Any OSError in the chain was SERVICE_UNAVAILABLE, a 503 with a one-line warning: a
    TimeoutError or FileNotFoundError of our own code (a bug) hid behind it."""
    dsn = DEAD_POSTGRES.replace("+asyncpg", "")
    outages = [
        await raised(asyncpg.connect(dsn, timeout=5)),  # refused
        await raised(asyncpg.connect(host=str(tmp_path), user="x", timeout=5)),  # no socket file
    ]
    assert isinstance(outages[1], FileNotFoundError)
    bugs = [await raised(_our_timeout()), await raised(_our_missing_file())]
    assert [type(b) for b in bugs] == [TimeoutError, FileNotFoundError]
    for outage in outages:
        failure = database_failure(outage)
        assert failure is not None and failure.code == "SERVICE_UNAVAILABLE", outage
    with caplog.at_level(logging.DEBUG):
        named = apply_error_policy([GraphQLError("x", path=["a"], original_error=outages[0])], "r1")
        masked = apply_error_policy(
            [GraphQLError("x", path=["a"], original_error=b) for b in bugs], "r2"
        )
    assert [e.extensions["code"] for e in named] == ["SERVICE_UNAVAILABLE"]
    assert [e.extensions["code"] for e in masked] == ["INTERNAL_SERVER_ERROR"] * 2
    # The outage: one warning, its trace at debug level; the bugs: their traces as errors.
    traced = [(r.levelname, r.getMessage()[:2]) for r in caplog.records if r.exc_info]
    assert ("DEBUG", "SE") in traced
    assert [level for level, _ in traced if level == "ERROR"] == ["ERROR", "ERROR"]
