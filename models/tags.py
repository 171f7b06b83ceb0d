"""A tag's key: what `tag_keys` holds beside a record's `tags` (models.base.tag_keys_column).

Tags are kept as the user spelled them and compared ignoring case everywhere (list filters,
the ERP rule, duplicates within one record's tags) by one key, made here and nowhere else:
Unicode's canonical caseless form, Python's `str.casefold()` over the decomposed tag,
composed again. So `ERP` = `erp`, `Straße` = `STRASSE`, `ΣΟΦΟΣ` = `σοφος`, and an umlaut
typed as one character or as two (macOS) is the same tag. The database never folds case
itself: its `lower()` depends on the database's locale (under `C`, `lower('Ü')` is `Ü`) and
differs from Python's for Greek, Turkish and `ß`.

The key is derived data of the row, like a generated column PostgreSQL cannot compute the
same way: the data layer writes it with the tags (app.data.row_values.stored_values, the one
way an entity's values reach an INSERT or UPDATE); conditions on tags are in
app.services.common.tags.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

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
