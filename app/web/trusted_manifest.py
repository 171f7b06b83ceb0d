"""The trusted documents' manifest: graphql-codegen's client preset `persisted-documents.json`,
`{"sha256:<hex>": "<document>"}` (with `persistedDocuments: {hashAlgorithm: 'sha256'}`; bare
hex keys are read too; the preset's default, SHA-1, is refused with that advice). Read once at
start: a file that cannot be read, is not such an object, holds a key that is not the SHA-256
of its document, or a document that does not parse stops the server with a
message naming the file."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path

import orjson
from graphql import GraphQLError, parse

from app.settings import Settings, SettingsError

Manifest = Mapping[str, str]
_HEX = re.compile(r"[0-9a-fA-F]+")
# A manifest document may be as long as a request body may be, and as many tokens as the
# server parses per request; the manifest itself, a hundred megabytes at most.
MAX_MANIFEST_BYTES = 100_000_000


def load_manifest(settings: Settings) -> Manifest:
    """The manifest's documents by hash (lower-case hex); empty when TRUSTED_DOCUMENTS=off."""
    path = settings.trusted_documents_manifest
    if settings.trusted_documents == "off" or path is None:
        return {}
    return read_manifest(path, settings.max_tokens)


def read_manifest(path: Path, max_tokens: int) -> Manifest:
    def refused(problem: str) -> SettingsError:
        return _refused(path, problem)

    try:
        with path.open("rb") as file:
            raw = file.read(MAX_MANIFEST_BYTES + 1)
    except OSError as error:
        raise refused(f"cannot be read ({error.strerror or type(error).__name__})") from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise refused(f"is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        sent = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise refused(f"is not JSON ({error})") from None
    if not isinstance(sent, dict):
        raise refused('must be a JSON object {"<sha256 hex>": "<document>", ...}')
    documents: dict[str, str] = {}
    for key, document in sent.items():
        documents[_checked_key(path, key, document)] = document
        try:
            parse(document, max_tokens=max_tokens)
        except GraphQLError as error:
            raise refused(f"the document of {key} is not GraphQL ({error.message})") from None
    return documents


def _refused(path: Path, problem: str) -> SettingsError:
    return SettingsError(f"TRUSTED_DOCUMENTS_MANIFEST {path}: {problem}")


def _checked_key(path: Path, key: str, document: object) -> str:
    """The key as the manifest's lookups use it (lower case, no prefix), if it is the document's
    hash. The client preset writes `sha256:<hex>` keys when told to hash with SHA-256."""
    if not isinstance(document, str):
        raise _refused(path, f"the value of {key!r} must be the document's text (a string)")
    key = key.removeprefix("sha256:")
    if not _HEX.fullmatch(key) or len(key) != 64:
        sha1 = len(key) == 40
        advice = " (the client preset hashes with SHA-1 unless told otherwise)" if sha1 else ""
        raise _refused(
            path,
            f"{key!r} is not a SHA-256 hash (64 hex digits){advice}: generate the manifest "
            "with persistedDocuments: {hashAlgorithm: 'sha256'}",
        )
    digest = hashlib.sha256(document.encode("utf-8", "surrogatepass")).hexdigest()
    if digest != key.lower():
        raise _refused(path, f"{key} is not the SHA-256 of its document (it is {digest})")
    return key.lower()
