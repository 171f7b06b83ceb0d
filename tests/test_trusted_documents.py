"""Trusted documents over real HTTP and WebSocket: TRUSTED_DOCUMENTS=allow|only with a manifest
in graphql-codegen's client-preset format, the compiled path's admitted documents, and a
manifest the server cannot use (it does not start). APQ: tests/test_persisted_documents.py."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest
from redis.asyncio import Redis

from app.settings import Settings, SettingsError, load_settings
from app.web.apq_store import DOCUMENT_PREFIX
from app.web.asgi import create_app
from app.web.trusted_manifest import read_manifest
from tests.conftest import Tokens, record_full_runs
from tests.live import LEGACY_WS, TRANSPORT_WS, free_port, graphql_socket, uvicorn_serving
from tests.test_persisted_documents import (
    FIRMS,
    ROLES,
    Client,
    apq,
    codes,
    served,
    sha256,
    unique,
)


def manifest_file(tmp_path: Path, *documents: str) -> Path:
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({sha256(document): document for document in documents}))
    return path


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


async def test_the_client_presets_prefixed_hash_as_the_apq_hash_runs_the_manifest_document(
    settings: Settings, tokens: Tokens, tenant: str, tmp_path: Path
) -> None:
    # Apollo's link with generateHash: (document) => document.__meta__.hash (README) sends the
    # client preset's key, "sha256:<hex>", as persistedQuery.sha256Hash.
    only = settings.model_copy(
        update={
            "trusted_documents": "only",
            "trusted_documents_manifest": manifest_file(tmp_path, ROLES),
        }
    )
    prefixed = f"sha256:{sha256(ROLES)}"
    async with served(only) as http:
        client = Client(http, tokens.make(tenant, subject="u"))
        for request in (
            client.post(apq(None, prefixed)),
            client.get(extensions=apq(None, prefixed)["extensions"]),
            client.post(apq(ROLES, prefixed)),  # the link's retry: hash and text
            client.post({**apq(None, prefixed), "documentId": prefixed}),
        ):
            answer = await request
            assert (answer.status_code, answer.json()["data"]) == (
                200,
                {"me": {"roles": ["admin"]}},
            )
        mismatch = await client.post(apq("{ me { roles } }", prefixed))
        assert codes(mismatch) == ["PERSISTED_QUERY_HASH_MISMATCH"]


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


# Configuration


def test_the_client_presets_sha256_prefixed_keys_and_bare_hex_keys_are_both_read(
    tmp_path: Path,
) -> None:
    # graphql-codegen's client preset (6.x) writes "sha256:<hex>" keys with hashAlgorithm sha256.
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({f"sha256:{sha256(ROLES)}": ROLES, sha256(FIRMS).upper(): FIRMS}))
    assert read_manifest(path, max_tokens=10_000) == {sha256(ROLES): ROLES, sha256(FIRMS): FIRMS}


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
