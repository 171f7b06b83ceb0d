"""Conditions on tags: a record has a tag, in any case, when its `tag_keys` hold the tag's key
(models/tags.py makes the key; a GIN index on `tag_keys` answers the condition)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from models.tags import tag_key


def has_tag(keys: Any, tag: str) -> sa.ColumnElement[bool]:
    """The record (`keys`: its `tag_keys` column) has `tag`, in any case."""
    condition: sa.ColumnElement[bool] = keys.contains([tag_key(tag)])
    return condition
