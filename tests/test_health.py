"""GET /health and /livez."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from app.asgi import create_app
from app.settings import Settings

DEAD_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"
DEAD_REDIS = "redis://127.0.0.1:1/0"


@asynccontextmanager
async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def test_health_is_200_when_database_and_redis_answer(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "up", "redis": "up", "lexware": "unconfigured"},
    }


async def test_health_needs_no_token_and_livez_answers(client: httpx.AsyncClient) -> None:
    assert (await client.get("/livez")).json() == {"status": "ok"}


async def test_health_is_503_when_redis_is_down(settings: Settings) -> None:
    async with _client(settings.model_copy(update={"redis_url": DEAD_REDIS})) as http:
        response = await http.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"] | {} == {
        "database": "up",
        "redis": "down",
        "lexware": "unconfigured",
    }


async def test_health_is_503_when_the_database_is_down(settings: Settings) -> None:
    async with _client(settings.model_copy(update={"database_url": DEAD_POSTGRES})) as http:
        response = await http.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "down"
    assert response.json()["checks"]["redis"] == "up"
