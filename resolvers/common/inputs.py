"""Turning GraphQL inputs into plain data for the services."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import strawberry

from app.errors import BadUserInput


def parse_id(value: strawberry.ID | str, field: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise BadUserInput.single(field, "is not a valid id") from None


def filter_id(value: strawberry.ID | None, field: str) -> uuid.UUID | None:
    """An optional id inside a list filter; a malformed one names `filter.<field>`."""
    return parse_id(value, f"filter.{field}") if value else None


def sent_fields(value: object) -> dict[str, Any]:
    """Input object -> dict of the fields the client sent (UNSET ones left out), recursively:
    the plain data a service validates (a value of any type the input's fields have)."""
    sent = _sent(value)
    if not isinstance(sent, dict):
        raise TypeError(f"not an input object: {type(value).__name__}")
    return sent


def _sent(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _sent(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not strawberry.UNSET
        }
    if isinstance(value, list):
        return [_sent(item) for item in value]
    return value


# Every list's `filter.search` (app/services/search: the matcher of `search`).
SEARCH_FILTER = (
    "The records `search` finds for this text (its fields, German-aware, typo-tolerant, "
    "prefixes, words in any order), with the list's other filters and its own order. At "
    "most 200 characters; blank: no search."
)
