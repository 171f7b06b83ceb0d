"""Persisted documents: Apollo's automatic persisted queries (APQ) and trusted documents.

A request names its document by hash in either of two ways, over HTTP (POST body, GET query
parameters, where `extensions` is JSON) and in a WebSocket `subscribe`/`start` payload alike:
- `extensions.persistedQuery: {version: 1, sha256Hash}` (Apollo's persisted-query link, and the
  fetch example of graphql-codegen's client preset);
- `documentId`: the bare hash or `sha256:<hash>` (the GraphQL-over-HTTP persisted documents
  appendix); `sha256Hash` may carry the prefix too (the client preset's `__meta__.hash`).
The hash is the SHA-256 (hex) of the document's exact text. Without the text, the document is
looked up: in the trusted manifest (memory), then, unless TRUSTED_DOCUMENTS=only, among the
registered APQ documents (app/web/apq_store.py: one Redis GET). Unknown: PERSISTED_QUERY_NOT_FOUND
(HTTP 200, as Apollo Server answers it, so every version of Apollo's link retries with the text)
or, for a `documentId`, PERSISTED_DOCUMENT_NOT_FOUND. With the text, the hash must be the text's
(else PERSISTED_QUERY_HASH_MISMATCH, nothing stored); an APQ request over HTTP then registers
it, after the rate limit has admitted the request, if it parses within MAX_TOKENS. Over a
WebSocket the text travels with every operation anyway: nothing is registered there.

TRUSTED_DOCUMENTS=only refuses every document whose hash is not in the manifest
(PERSISTED_DOCUMENT_NOT_ALLOWED, HTTP 400), sent by hash or as full text: the full text of a
manifest document is accepted, as Apollo's and The Guild's safelisting accept it (the same
documents run either way; a client that fell back to the text keeps working).

A request that uses none of this pays nothing: no Redis call, and over HTTP not even a JSON
parse unless its body mentions `persistedQuery` or `documentId` (or in `only` mode, where each
document's hash is looked up in memory). The resolved text replaces the request's `query`
before anything else reads it, so the compiled path's admitted documents
(`CrmGraphQL._answer_admitted`), the rate limit, idempotency and strawberry all see it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

import orjson
from graphql import GraphQLError, parse
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive

from app.settings import Settings
from app.web.apq_store import DocumentStore
from app.web.http import error_response
from app.web.trusted_manifest import Manifest, load_manifest

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
DOCUMENT_NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"
NOT_ALLOWED = "PERSISTED_DOCUMENT_NOT_ALLOWED"
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Apollo's link looks for the message or the code; Apollo Server answers both with 200 and
# no caching, so that a client (or a proxy) never takes it for the answer to keep.
_RETRY_HEADERS = {"Cache-Control": "private, no-cache, must-revalidate"}
REGISTRATION = "persisted_registration"  # request.state: (hash, text) to register


class Refused(Exception):
    """A persisted-document request that cannot run, with its code and HTTP status."""

    def __init__(self, message: str, code: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status

    def response(self) -> Response:
        headers = _RETRY_HEADERS if self.status == 200 else None
        return error_response(self.message, self.code, self.status, headers)

    def graphql_error(self) -> GraphQLError:
        return GraphQLError(self.message, extensions={"code": self.code})


@dataclass(frozen=True)
class Resolved:
    query: str  # the document to run
    register: str | None = None  # its hash, when it is an APQ registration to store


class PersistedDocuments:
    """One server process's persisted documents: the manifest in memory, the APQ store."""

    def __init__(self, settings: Settings, store: DocumentStore, manifest: Manifest) -> None:
        self.mode: Literal["off", "allow", "only"] = settings.trusted_documents
        self.store = store
        self.manifest = manifest
        self.max_tokens = settings.max_tokens
        self.max_bytes = settings.max_body_bytes

    @classmethod
    def of(cls, settings: Settings, store: DocumentStore) -> PersistedDocuments:
        """Refuses to build (SettingsError naming the file) with a manifest it cannot use."""
        return cls(settings, store, load_manifest(settings))

    async def resolve(
        self, query: object, extensions: object, document_id: object
    ) -> Resolved | None:
        """The document a request runs; None when it is the request's own `query`, unchecked
        (strawberry reports what is wrong with it). Raises Refused."""
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if persisted is None and document_id is None:
            if self.mode == "only" and isinstance(query, str):
                self._allowed(_sha256(query))
            return None
        sha256 = _requested_hash(persisted, document_id)
        if isinstance(query, str):
            if _sha256(query) != sha256:
                raise Refused(
                    "The document's SHA-256 is not the hash sent with it "
                    "(hash the exact text sent as `query`); nothing was stored.",
                    HASH_MISMATCH,
                )
            self._allowed(sha256)
            new = persisted is not None and sha256 not in self.manifest
            return Resolved(query, sha256 if new else None)
        if query is not None:
            return None  # not a string: strawberry says so
        text = self.manifest.get(sha256)
        if text is None:
            self._allowed(sha256)
            text = await self.store.get(sha256)
            if text is not None and _sha256(text) != sha256:
                text = None  # not what was registered (Redis written by another hand): unknown
        if text is not None:
            return Resolved(text)
        if persisted is not None:
            raise Refused("PersistedQueryNotFound", NOT_FOUND, 200)
        raise Refused(
            f"No persisted document has the id sha256:{sha256}: send it as `query`.",
            DOCUMENT_NOT_FOUND,
        )

    def _allowed(self, sha256: str) -> None:
        if self.mode == "only" and sha256 not in self.manifest:
            raise Refused(
                "This server runs only the documents of its trusted manifest, and this is not "
                "one of them (TRUSTED_DOCUMENTS=only).",
                NOT_ALLOWED,
            )

    async def register(self, sha256: str, text: str) -> None:
        """Store a document sent with its (checked) hash, if it may be: small enough, and a
        GraphQL document (junk is never kept); the request runs in any case."""
        if self.mode == "only" or len(text.encode()) > self.max_bytes:
            return
        try:
            parse(text, max_tokens=self.max_tokens)
        except GraphQLError:
            return
        await self.store.put(sha256, text)

    # HTTP

    async def http_request(self, request: Request) -> Request | Response:
        """The request with its persisted document as `query` (a registration noted for
        `register_http`), the request itself when it names none, or the refusal."""
        if self.mode != "only" and not await _names_a_document(request):
            return request  # the common case, kept cheap
        try:
            if request.method == "GET":
                return await self._resolve_get(request)
            return await self._resolve_post(request)
        except Refused as refused:
            return refused.response()

    async def register_http(self, request: Request) -> None:
        """The registration `http_request` noted, once the request may run."""
        registration: tuple[str, str] | None = getattr(request.state, REGISTRATION, None)
        if registration is not None:
            await self.register(*registration)

    async def _resolve_post(self, request: Request) -> Request:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return request  # strawberry answers it
        if not isinstance(body, dict):
            return request
        sent = body.get("query")
        resolved = await self.resolve(sent, body.get("extensions"), body.get("documentId"))
        if resolved is None:
            return request
        _note_registration(request, resolved)
        if resolved.query == sent:
            return request
        return Request(
            request.scope,
            _replaying(orjson.dumps({**body, "query": resolved.query}), request.receive),
        )

    async def _resolve_get(self, request: Request) -> Request:
        params = request.query_params
        try:
            extensions = orjson.loads(params["extensions"]) if params.get("extensions") else None
        except orjson.JSONDecodeError:
            return request  # strawberry answers it
        sent = params.get("query")
        resolved = await self.resolve(sent, extensions, params.get("documentId"))
        if resolved is None:
            return request
        _note_registration(request, resolved)
        if resolved.query == sent:
            return request
        items = [(k, v) for k, v in params.multi_items() if k != "query"]
        query_string = urlencode([*items, ("query", resolved.query)]).encode()
        state = request.scope.setdefault("state", {})  # shared: the caller reads it after
        return Request(
            {**request.scope, "query_string": query_string, "state": state}, request.receive
        )

    # WebSocket

    async def ws_payload(self, payload: object) -> object:
        """A `subscribe`/`start` payload with its persisted document as `query` (the payload
        itself when it names none, or is malformed: the handler reports that). Raises the
        coded GraphQLError to send as the operation's error."""
        if not isinstance(payload, dict):
            return payload
        try:
            resolved = await self.resolve(
                payload.get("query"), payload.get("extensions"), payload.get("documentId")
            )
        except Refused as refused:
            raise refused.graphql_error() from None
        if resolved is None or resolved.query == payload.get("query"):
            return payload
        return {**payload, "query": resolved.query}


async def _names_a_document(request: Request) -> bool:
    """Whether the request may name a persisted document: a POST body that mentions one of its
    fields (a plain substring test, no JSON parse), a GET with `extensions` or `documentId`."""
    if request.method == "GET":
        params = request.query_params
        return "extensions" in params or "documentId" in params
    body = await request.body()  # read and bounded by now (CrmGraphQL._refuse_request)
    return b"persistedQuery" in body or b"documentId" in body


def _requested_hash(persisted: object, document_id: object) -> str:
    """The SHA-256 the request names (both ways must agree); Refused when malformed."""
    hashes: set[str] = set()
    if persisted is not None:
        if not isinstance(persisted, dict):
            raise Refused("extensions.persistedQuery must be an object.", "BAD_USER_INPUT")
        if persisted.get("version") != 1:
            raise Refused(
                f"Persisted query version {persisted.get('version')!r} is not supported: "
                "send version 1 (Apollo's automatic persisted queries).",
                NOT_SUPPORTED,
                200,
            )
        # Apollo's link sends what generateHash returns: with the client preset that is the
        # document's __meta__.hash, which 6.x writes as "sha256:<hex>", as in the manifest.
        hashes.add(
            _checked_hash(_unprefixed(persisted.get("sha256Hash")), "persistedQuery.sha256Hash")
        )
    if document_id is not None:
        hashes.add(_checked_hash(_unprefixed(document_id), "documentId"))
    if len(hashes) > 1:
        raise Refused(
            "documentId and persistedQuery.sha256Hash name different documents.", "BAD_USER_INPUT"
        )
    return hashes.pop()


def _unprefixed(sent: object) -> object:
    return sent.removeprefix("sha256:") if isinstance(sent, str) else sent


def _checked_hash(sent: object, where: str) -> str:
    if not isinstance(sent, str) or not _SHA256.fullmatch(sent.lower()):
        raise Refused(
            f"{where} must be a document's SHA-256: 64 hexadecimal digits "
            "(optionally prefixed sha256:).",
            "BAD_USER_INPUT",
        )
    return sent.lower()


def _sha256(text: str) -> str:
    # surrogatepass: a lone surrogate hashes (to nothing a manifest holds) instead of raising.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _note_registration(request: Request, resolved: Resolved) -> None:
    if resolved.register is not None:
        setattr(request.state, REGISTRATION, (resolved.register, resolved.query))


def _replaying(body: bytes, then: Receive) -> Receive:
    """A `receive` that delivers `body` as the whole request, then what `then` receives (the
    client's disconnect: its own body has been read)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await then()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
