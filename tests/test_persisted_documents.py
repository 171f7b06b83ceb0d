"""Persisted documents over real HTTP (uvicorn on 127.0.0.1) and Redis: Apollo's automatic
persisted queries (POST and GET, the store shared by all processes, bounded, a Redis outage
that fails no request, WebSocket, the compiled path's admitted documents). Trusted documents:
tests/test_trusted_documents.py."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from app.settings import Settings
from app.web.apq_store import DOCUMENT_PREFIX, ENTRY_OVERHEAD, INDEX, TOTAL, DocumentStore
from app.web.asgi import create_app
from tests.conftest import Tokens, record_full_runs, server_dir
from tests.live import TRANSPORT_WS, RedisProcess, graphql_socket, uvicorn_serving
from tests.test_health import until
from tests.test_redis_outage import paused
from tests.test_relay import isolated  # noqa: F401  (a stack whose Redis can be stopped)

FIRMS = "query Firms { companies(first: 5) { totalCount edges { node { id name } } } }"
ROLES = "query Roles { me { roles } }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apq(text: str | None, sha: str | None = None, **more: Any) -> dict[str, Any]:
    """An Apollo persisted-query link's request: the hash, and the text only on its retry."""
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}
    if text is not None:
        body["query"] = text
        body["extensions"]["persistedQuery"]["sha256Hash"] = sha or sha256(text)
    return {**body, **more}


def unique(name: str) -> str:
    """A document no other test has registered (the session's Redis is shared)."""
    return f"query {name}_{uuid.uuid4().hex[:10]} {{ me {{ roles }} }}"


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An app of these settings under uvicorn on 127.0.0.1, and a client of it."""
    application = create_app(settings)
    async with (
        application.router.lifespan_context(application),
        uvicorn_serving(application) as host,
        httpx.AsyncClient(base_url=f"http://{host}", timeout=30) as http,
    ):
        yield http


class Client:
    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.headers = {"authorization": f"Bearer {token}"}

    async def post(self, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post("/graphql", json=body, headers=self.headers)

    async def get(self, **params: Any) -> httpx.Response:
        sent = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
        return await self.http.get("/graphql", params=sent, headers=self.headers)


@pytest.fixture
async def live_client(live: str, tokens: Tokens, tenant: str) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(base_url=f"http://{live}", timeout=30) as http:
        yield Client(http, tokens.make(tenant, subject="u"))


# Automatic persisted queries


async def test_an_unknown_hash_asks_for_the_text_which_registers_it_for_post_and_get(
    live_client: Client, settings: Settings, servers: Any
) -> None:
    text = unique("Apq")
    unknown = await live_client.post(apq(None, sha256(text), operationName=None))
    # What Apollo's persisted-query link looks for before it sends the text (HTTP 200, as
    # Apollo Server answers it, never to be cached).
    assert unknown.status_code == 200
    assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert codes(unknown) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert "no-cache" in unknown.headers["cache-control"]
    by_get = await live_client.get(extensions=apq(None, sha256(text))["extensions"])
    assert codes(by_get) == ["PERSISTED_QUERY_NOT_FOUND"]

    registered = await live_client.post(apq(text))
    assert registered.json() == {"data": {"me": {"roles": ["admin"]}}, "extensions": ANY_COST}
    for answer in (
        await live_client.post(apq(None, sha256(text))),
        await live_client.get(extensions=apq(None, sha256(text))["extensions"]),
    ):
        assert answer.status_code == 200 and answer.json()["data"] == {"me": {"roles": ["admin"]}}

    redis = Redis.from_url(settings.redis_url or "")
    try:
        ttl = await redis.ttl(DOCUMENT_PREFIX + sha256(text))
        assert 0 < ttl <= settings.apq_ttl_seconds
        assert await redis.get(DOCUMENT_PREFIX + sha256(text)) == text.encode()
    finally:
        await redis.aclose()


class _AnyCost:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, dict) and set(other) == {"cost"}


ANY_COST = _AnyCost()


async def test_the_store_is_shared_by_every_server_process(
    live_client: Client, settings: Settings, tokens: Tokens, tenant: str
) -> None:
    text = unique("Shared")
    assert (await live_client.post(apq(text))).json()["data"] == {"me": {"roles": ["admin"]}}
    async with served(settings) as other_process:
        other = Client(other_process, tokens.make(tenant, subject="u"))
        answer = await other.post(apq(None, sha256(text)))
        assert answer.json()["data"] == {"me": {"roles": ["admin"]}}


async def test_a_hash_that_is_not_the_texts_is_refused_and_nothing_is_stored(
    live_client: Client,
) -> None:
    text, other = unique("Text"), unique("Other")
    mismatch = await live_client.post(apq(text, sha256(other)))
    assert (mismatch.status_code, codes(mismatch)) == (400, ["PERSISTED_QUERY_HASH_MISMATCH"])
    for sha in (sha256(other), sha256(text)):
        assert codes(await live_client.post(apq(None, sha))) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_stored_text_that_is_not_its_hashs_is_never_run(
    settings: Settings, live_client: Client
) -> None:
    """The store's texts are checked against their hash when read: a document written into
    Redis under another document's hash (by hand, or another program) is not served."""
    text, planted = unique("Asked"), "mutation { logout }"
    redis = Redis.from_url(settings.redis_url or "")
    try:
        await redis.set(DOCUMENT_PREFIX + sha256(text), planted, ex=60)
        asked = await live_client.post(apq(None, sha256(text)))
        assert codes(asked) == ["PERSISTED_QUERY_NOT_FOUND"], asked.text
    finally:
        await redis.aclose()


async def test_junk_sent_with_its_hash_gets_its_syntax_error_and_is_not_kept(
    live_client: Client,
) -> None:
    junk = f"query {{ me {{ roles }} {uuid.uuid4().hex}"
    answer = await live_client.post(apq(junk))
    assert answer.json()["errors"] and "PERSISTED" not in str(codes(answer))
    assert codes(await live_client.post(apq(None, sha256(junk)))) == ["PERSISTED_QUERY_NOT_FOUND"]


BAD_REQUESTS = {
    "version 2": (
        {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "a" * 64}}},
        200,
        "PERSISTED_QUERY_NOT_SUPPORTED",
    ),
    "hash not hex": (
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "xyz"}}},
        400,
        "BAD_USER_INPUT",
    ),
    "persistedQuery not an object": (
        {"extensions": {"persistedQuery": "abc"}},
        400,
        "BAD_USER_INPUT",
    ),
    "documentId unknown": (
        {"documentId": "sha256:" + "b" * 64},
        400,
        "PERSISTED_DOCUMENT_NOT_FOUND",
    ),
    "documentId not a hash": ({"documentId": 12}, 400, "BAD_USER_INPUT"),
    "documentId and hash differ": (
        {
            "documentId": "c" * 64,
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "d" * 64}},
        },
        400,
        "BAD_USER_INPUT",
    ),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
async def test_a_malformed_persisted_request_gets_a_clear_code(
    live_client: Client, case: str
) -> None:
    body, status, code = BAD_REQUESTS[case]
    answer = await live_client.post(body)
    assert (answer.status_code, codes(answer)) == (status, [code])
    assert answer.json()["errors"][0]["extensions"]["requestId"]


async def test_a_document_by_hash_is_answered_by_the_compiled_path_once_admitted(
    settings: Settings, tokens: Tokens, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second request by hash skips strawberry's view: the admitted plan answers it."""
    text = FIRMS.replace("Firms", f"Firms_{uuid.uuid4().hex[:8]}")
    async with served(settings.model_copy(update={"compiled_execution": "on"})) as http:
        client = Client(http, tokens.make(tenant, subject="u"))
        full_runs = record_full_runs(monkeypatch)
        first = await client.post(apq(text))
        answers = [await client.post(apq(None, sha256(text))) for _ in range(2)]
        assert all(a.json()["data"] == first.json()["data"] for a in answers)
        assert first.json()["data"]["companies"]["totalCount"] == 0
        assert full_runs == [text]  # the registration; both lookups took the admitted path


async def test_apq_by_hash_works_over_websocket(
    live: str, live_client: Client, tokens: Tokens, tenant: str
) -> None:
    text = unique("Socket")
    await live_client.post(apq(text))
    async with graphql_socket(live, TRANSPORT_WS) as socket:
        await socket.init(tokens.make(tenant, subject="u"))
        await socket.send({"id": "1", "type": "subscribe", "payload": apq(None, sha256(text))})
        assert await socket.next_data() == {"me": {"roles": ["admin"]}}
        assert (await socket.receive())["type"] == "complete"
        await socket.send({"id": "2", "type": "subscribe", "payload": apq(text, sha256(ROLES))})
        refused = await socket.receive()
        assert refused["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"


# The bound and the outage


async def test_the_store_evicts_the_oldest_documents_beyond_its_bytes(
    settings: Settings,
) -> None:
    process = RedisProcess(server_dir("apq"))
    process.start()
    redis = Redis.from_url(process.url)
    try:
        documents = [f"query Q{i} {{ me {{ roles }} }}" + " " * 600 for i in range(4)]
        each = len(documents[0]) + ENTRY_OVERHEAD
        bounded = settings.model_copy(
            update={"max_body_bytes": 1024, "apq_store_max_bytes": 2 * each + 10}
        )
        store = DocumentStore(redis, bounded)
        for document in documents:
            assert await store.put(sha256(document), document)
        assert [await store.get(sha256(d)) for d in documents] == [None, None, *documents[2:]]
        assert int(await redis.get(TOTAL) or 0) == 2 * each
        assert await redis.zcard(INDEX) == 2
        assert await store.put(sha256(documents[3]), documents[3])  # again: counted once
        assert int(await redis.get(TOTAL) or 0) == 2 * each
    finally:
        await redis.aclose()
        process.stop()


async def test_with_redis_stopped_or_paused_no_request_fails_for_the_store(
    isolated: tuple[Settings, RedisProcess],  # noqa: F811
    tokens: Tokens,
) -> None:
    own, redis = isolated
    text = unique("Outage")
    async with served(own) as http:
        client = Client(http, tokens.make("apq-outage", subject="u"))
        assert (await client.post(apq(text))).json()["data"] == {"me": {"roles": ["admin"]}}
        # Redis round trips: none for a request that does not use APQ, one GET for a hit.
        gets = await redis_calls(redis, "get")
        for _ in range(3):
            await client.post({"query": ROLES})
            await client.get(query=ROLES)
        assert await redis_calls(redis, "get") == gets
        for _ in range(3):
            assert "data" in (await client.post(apq(None, sha256(text)))).json()
        assert await redis_calls(redis, "get") == gets + 3
        for outage in ("stopped", "paused"):
            if outage == "stopped":
                redis.stop()
            with paused(redis) if outage == "paused" else nullcontext():
                began = time.monotonic()
                lookup = await client.post(apq(None, sha256(text)))
                assert codes(lookup) == ["PERSISTED_QUERY_NOT_FOUND"], outage
                fallback = await client.post(apq(text))  # the link's retry: served
                assert fallback.json()["data"] == {"me": {"roles": ["admin"]}}, outage
                assert time.monotonic() - began < 5  # Redis's timeout is 1 s
            if outage == "stopped":
                redis.start()

                async def found_again() -> bool:
                    await client.post(apq(text))  # registers once Redis is tried again
                    return "data" in (await client.post(apq(None, sha256(text)))).json()

                await until(found_again, seconds=20)


async def redis_calls(process: RedisProcess, command: str) -> int:
    redis = Redis.from_url(process.url)
    try:
        stats = await redis.info("commandstats")
    finally:
        await redis.aclose()
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))
