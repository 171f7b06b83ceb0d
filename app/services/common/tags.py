"""Tags: kept as the user spelled them, compared ignoring case everywhere (list filters, the
ERP rule, duplicates within one record's tags), by one key made here and nowhere else.

A tag's key is Unicode's canonical caseless form (`tag_key`): Python's `str.casefold()` over
the decomposed tag, composed again. So `ERP` = `erp`, `Straße` = `STRASSE`, `ΣΟΦΟΣ` =
`σοφος`, and an umlaut typed as one character or as two (macOS) is the same tag. The
database never folds case itself: its `lower()` depends on the database's locale (under `C`,
`lower('Ü')` is `Ü`) and differs from Python's for Greek, Turkish and `ß`.

The services store the keys next to the tags (`tag_keys`, written with `tags` by
`row_values.stored_values`, the one way an entity's values reach an INSERT or UPDATE), and
a condition on a tag compares the record's keys with the tag's key, made here too: a GIN
index on `tag_keys` answers it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

TAGS = "tags"
TAG_KEYS = "tag_keys"


def tag_key(tag: str) -> str:
    """What every spelling of one tag shares: NFC(casefold(NFD(tag)))."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", tag).casefold())


def tag_keys(tags: Iterable[str]) -> list[str]:
    """The keys of a record's tags, in their order."""
    return [tag_key(tag) for tag in tags]


def with_tag_keys(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values of a row with tags: their keys too, whenever the tags are written."""
    stored = dict(values)
    if TAGS in stored:
        stored[TAG_KEYS] = tag_keys(stored[TAGS] or ())
    return stored


def has_tag(keys: Any, tag: str) -> sa.ColumnElement[bool]:
    """The record (`keys`: its `tag_keys` column) has `tag`, in any case."""
    condition: sa.ColumnElement[bool] = keys.contains([tag_key(tag)])
    return condition
