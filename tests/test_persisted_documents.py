"""Persisted documents over real HTTP (uvicorn on 127.0.0.1) and Redis: Apollo's automatic
persisted queries (POST and GET, the store shared by all processes, bounded, a Redis outage
that fails no request) and trusted documents (TRUSTED_DOCUMENTS=allow|only, WebSocket too, and
the compiled path's admitted documents)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from app.settings import Settings, SettingsError, load_settings
from app.web.apq_store import DOCUMENT_PREFIX, ENTRY_OVERHEAD, INDEX, TOTAL, DocumentStore
from app.web.asgi import create_app
from tests.conftest import Tokens, record_full_runs, server_dir
from tests.live import (
    LEGACY_WS,
    TRANSPORT_WS,
    RedisProcess,
    free_port,
    graphql_socket,
    uvicorn_serving,
)
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


def manifest_file(tmp_path: Path, *documents: str) -> Path:
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({sha256(document): document for document in documents}))
    return path


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


# Trusted documents


async def test_allow_runs_manifest_documents_by_id_and_everything_else_as_before(
    settings: Settings, tokens: Tokens, tenant: str, tmp_path: Path
) -> None:
    allowed = settings.model_copy(
        update={
            "trusted_documents": "allow",
            "trusted_documents_manifest": manifest_file(tmp_path, ROLES),
        }
    )
    async with served(allowed) as http:
        client = Client(http, tokens.make(tenant, subject="u"))
        roles = {"me": {"roles": ["admin"]}}
        for request in (
            client.post({"documentId": sha256(ROLES)}),
            client.post({"documentId": f"sha256:{sha256(ROLES)}"}),
            client.post(apq(None, sha256(ROLES))),
            client.get(documentId=f"sha256:{sha256(ROLES)}"),
            client.post({"query": "{ me { roles } }"}),  # not in the manifest: runs as before
        ):
            answer = await request
            assert (answer.status_code, answer.json()["data"]) == (200, roles)
        text = unique("Allowed")
        assert (await client.post(apq(text))).json()["data"] == roles  # APQ still registers
        assert (await client.post(apq(None, sha256(text)))).json()["data"] == roles


async def test_only_refuses_every_document_outside_the_manifest_and_registers_nothing(
    settings: Settings, tokens: Tokens, tenant: str, tmp_path: Path
) -> None:
    only = settings.model_copy(
        update={
            "trusted_documents": "only",
            "trusted_documents_manifest": manifest_file(tmp_path, ROLES),
        }
    )
    roles = {"me": {"roles": ["admin"]}}
    outsider = unique("Outsider")
    async with served(only) as http:
        client = Client(http, tokens.make(tenant, subject="u"))
        for request in (
            client.post({"documentId": sha256(ROLES)}),
            client.post({"query": ROLES}),  # its full text: safelisted as well
            client.get(query=ROLES),
            client.post(apq(ROLES)),
        ):
            answer = await request
            assert (answer.status_code, answer.json()["data"]) == (200, roles)
        for request in (
            client.post({"query": outsider}),
            client.get(query=outsider),
            client.post(apq(outsider)),  # no registration in `only`
            client.post(apq(None, sha256(outsider))),  # not NOT_FOUND: the text would not help
            client.post({"documentId": sha256(outsider)}),
            client.post({"query": "{ me { roles } }"}),
        ):
            answer = await request
            assert (answer.status_code, codes(answer)) == (400, ["PERSISTED_DOCUMENT_NOT_ALLOWED"])
    redis = Redis.from_url(settings.redis_url or "")
    try:
        assert await redis.get(DOCUMENT_PREFIX + sha256(outsider)) is None
    finally:
        await redis.aclose()


async def test_only_applies_to_the_compiled_paths_admitted_documents(
    settings: Settings, tokens: Tokens, tenant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    only = settings.model_copy(
        update={
            "trusted_documents": "only",
            "trusted_documents_manifest": manifest_file(tmp_path, FIRMS),
            "compiled_execution": "on",
        }
    )
    async with served(only) as http:
        client = Client(http, tokens.make(tenant, subject="u"))
        full_runs = record_full_runs(monkeypatch)
        answers = [await client.post({"documentId": sha256(FIRMS)}) for _ in range(3)]
        assert all(a.json()["data"]["companies"]["totalCount"] == 0 for a in answers)
        assert full_runs == [FIRMS]  # then admitted: the fast path resolved the id too
        refused = await client.post({"query": FIRMS.replace("Firms", "Other")})
        assert codes(refused) == ["PERSISTED_DOCUMENT_NOT_ALLOWED"]


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_only_applies_to_websocket_operations(
    settings: Settings, tokens: Tokens, tenant: str, tmp_path: Path, protocol: str
) -> None:
    only = settings.model_copy(
        update={
            "trusted_documents": "only",
            "trusted_documents_manifest": manifest_file(tmp_path, ROLES),
        }
    )
    application = create_app(only)
    async with (
        application.router.lifespan_context(application),
        uvicorn_serving(application) as host,
        graphql_socket(host, protocol) as socket,
    ):
        await socket.init(tokens.make(tenant, subject="u"))
        kind = "subscribe" if protocol == TRANSPORT_WS else "start"
        for op_id, payload in (
            ("1", {"query": "{ me { roles } }"}),
            ("2", apq(None, sha256(unique("Outsider")))),
        ):
            await socket.send({"id": op_id, "type": kind, "payload": payload})
            refused = await socket.receive()
            assert (refused["id"], refused["type"]) == (op_id, "error")
            error = refused["payload"][0] if protocol == TRANSPORT_WS else refused["payload"]
            assert error["extensions"]["code"] == "PERSISTED_DOCUMENT_NOT_ALLOWED"
        for op_id, payload in (
            ("3", {"documentId": f"sha256:{sha256(ROLES)}"}),
            ("4", apq(None, sha256(ROLES))),
        ):
            await socket.send({"id": op_id, "type": kind, "payload": payload})
            assert await socket.next_data() == {"me": {"roles": ["admin"]}}
            assert (await socket.receive())["type"] == "complete"


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


# Configuration


def test_allow_or_only_without_a_manifest_is_a_settings_error() -> None:
    for mode in ("allow", "only"):
        with pytest.raises(SettingsError, match="TRUSTED_DOCUMENTS_MANIFEST"):
            load_settings(
                database_url="postgresql://x/y",
                redis_url="redis://x",
                trusted_documents=mode,
                _env_file=None,
            )


MANIFESTS = {
    "not JSON": ("{", "is not JSON"),
    "an array": ("[]", "must be a JSON object"),
    "SHA-1 keys": (
        json.dumps({hashlib.sha1(ROLES.encode()).hexdigest(): ROLES}),
        "hashAlgorithm: 'sha256'",
    ),
    "a wrong hash": (json.dumps({"e" * 64: ROLES}), "is not the SHA-256 of its document"),
    "not GraphQL": (json.dumps({sha256("query {"): "query {"}), "is not GraphQL"),
    "a number as document": (json.dumps({"f" * 64: 1}), "must be the document's text"),
}


@pytest.mark.parametrize("case", MANIFESTS, ids=list(MANIFESTS))
def test_a_manifest_the_server_cannot_use_stops_it_naming_the_file(
    settings: Settings, tmp_path: Path, case: str
) -> None:
    content, problem = MANIFESTS[case]
    path = tmp_path / "persisted-documents.json"
    path.write_text(content)
    bad = settings.model_copy(
        update={"trusted_documents": "only", "trusted_documents_manifest": path}
    )
    with pytest.raises(SettingsError) as refused:
        create_app(bad)
    assert str(path) in str(refused.value) and problem in str(refused.value)


def test_an_unreadable_manifest_stops_the_server(settings: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    bad = settings.model_copy(
        update={"trusted_documents": "allow", "trusted_documents_manifest": missing}
    )
    with pytest.raises(SettingsError, match=f"{missing}: cannot be read"):
        create_app(bad)


async def test_serve_refuses_to_start_with_a_malformed_manifest(tmp_path: Path) -> None:
    from tests.test_cli import _clean_env, _run

    path = tmp_path / "persisted-documents.json"
    path.write_text("not json")
    env = _clean_env(TRUSTED_DOCUMENTS="only", TRUSTED_DOCUMENTS_MANIFEST=str(path))
    port = str(free_port())
    result = await asyncio.to_thread(_run, "serve", "--port", port, cwd=tmp_path, env=env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and str(path) in result.stderr
    assert not (tmp_path / ".insight-crm").exists(), "nothing starts before the check"
