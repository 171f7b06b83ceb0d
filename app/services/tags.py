"""Tags: kept as the user spelled them, compared case-insensitively everywhere (list filters,
the ERP rule, duplicates within one record's tags).

A condition on a tag matches the record's lowercased tags (the generated column `tag_keys`,
models.base) against the tag lowercased by PostgreSQL's own `lower()`, so both sides fold
case the same way; a GIN index on `tag_keys` can answer it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


def has_tag(tag_keys: Any, tag: str) -> sa.ColumnElement[bool]:
    """The record (`tag_keys`: its generated column) has `tag`, in any case."""
    wanted = postgresql.array([sa.func.lower(sa.literal(tag, sa.Text()))])
    condition: sa.ColumnElement[bool] = tag_keys.contains(wanted)
    return condition


def same_tag_key(tag: str) -> str:
    """What two spellings of one tag share (duplicates within a record's tags)."""
    return tag.lower()
