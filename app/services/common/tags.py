"""Conditions on tags: a record has a tag, in any case, when its `tag_keys` hold the tag's key
(models/tags.py makes the key).

Two forms, for two readers. A tenant's list filter (`tagged`) runs under row-level security,
where `@>` on an array is no index condition (not leakproof): it asks the record's tag rows
(models/record_tags.py, `tag_key = $1`, text equality) for the ids instead. Work across
tenants as `crm_system` (the Lexware crons: `has_tag`), whose policy admits every row, keeps
`tag_keys @>`, answered by the GIN index on `tag_keys`."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from models.tags import tag_key


def has_tag(keys: Any, tag: str) -> sa.ColumnElement[bool]:
    """The record (`keys`: its `tag_keys` column) has `tag`, in any case."""
    condition: sa.ColumnElement[bool] = keys.contains([tag_key(tag)])
    return condition


def tagged(record_id: Any, tag_rows: Any, tag: str) -> sa.ColumnElement[bool]:
    """The record (`record_id`: its id column) has `tag`, in any case, by its tag rows
    (`tag_rows`: the `<table>_tag` model's record id column, `CompanyTag.company_id`)."""
    model = tag_rows.class_
    holders = sa.select(tag_rows).where(model.tag_key == tag_key(tag))
    condition: sa.ColumnElement[bool] = record_id.in_(holders)
    return condition
