"""The `Idempotency-Key` header's value and the fingerprint of the request it names.

The draft defines the header as a structured-field string (`"8e03978e-..."`); clients also
send bare tokens (`8e03978e-...`). Both are taken: printable ASCII, 1 to 255 characters. A
value outside that is refused (BAD_USER_INPUT) and neither stored nor logged.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import orjson

from app.errors import BadUserInput

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# A bare token: visible ASCII, no quote or backslash (those belong to the quoted form).
_BARE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,255}")
# The structured-field string: printable ASCII between quotes, `\"` and `\\` escaped.
_QUOTED = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\]){1,255})"')
_ESCAPE = re.compile(r'\\(["\\])')


def parse_key(values: list[str]) -> str:
    """The key of the request's `Idempotency-Key` header(s): exactly one, well formed."""
    if len(values) != 1:
        raise _refusal("send exactly one Idempotency-Key header.")
    value = values[0].strip(" \t")
    if quoted := _QUOTED.fullmatch(value):
        key = _ESCAPE.sub(r"\1", quoted.group(1))
    elif _BARE.fullmatch(value):
        key = value
    else:
        key = ""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise _refusal(
            f'use 1 to {MAX_KEY_LENGTH} printable ASCII characters, as a token or a "string".'
        )
    return key


def _refusal(advice: str) -> BadUserInput:
    return BadUserInput.single(HEADER, f"malformed idempotency key: {advice}")


def fingerprint(query: str, operation_name: str | None, variables: dict[str, Any] | None) -> bytes:
    """sha256 of the request as canonical JSON (keys sorted): the same document, operation and
    variables give the same fingerprint, whatever order the client wrote the variables in."""
    request = {"query": query, "operationName": operation_name, "variables": variables or {}}
    return hashlib.sha256(orjson.dumps(request, option=orjson.OPT_SORT_KEYS)).digest()
