"""What a record's row is to the services: the columns it is read with, and the column values
written for its values (with what the database keeps beside them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import col

from models.base import in_record_row
from models.tags import TAG_KEYS, with_tag_keys


def record_columns(model: Any) -> tuple[Any, ...]:
    """The columns a row of `model` is read with: not the tenant (the scope's), not what is
    kept for the database's own use (`tag_keys`) or read apart (the Lexware merge base):
    models.base.in_record_row."""
    table = model.__table__
    return tuple(
        col(getattr(model, name))
        for name in model.model_fields
        if name != "tenant_id" and in_record_row(table.c[name])
    )


def stored_values(model: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """The column values an INSERT or UPDATE of `model` writes for these record values: with
    what the database keeps beside them (the keys of `tags`). Every write of an entity's
    values goes through here (records.insert_row, insert_statement, update_row; the demo
    seed)."""
    if TAG_KEYS in model.model_fields:
        return with_tag_keys(values)
    return dict(values)
