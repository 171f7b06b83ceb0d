"""EmailsByContactLoader, EmailsByCompanyLoader, PhonesBy...: primary first, then oldest."""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlmodel import col
from strawberry.types import Info

from app.services.contact_info import EMAILS, PHONES, ValueKind
from resolvers.contact_info.types import Email, Phone
from resolvers.context import context_of


@functools.cache
def _ordering(model: Any) -> tuple[Any, ...]:
    return (col(model.is_primary).desc(), col(model.created_at), col(model.id))


def _values_loader(info: Info[Any, Any], kind: ValueKind, owner_column: str) -> Any:
    ordering = _ordering(kind.entity.model)
    return context_of(info).loaders.by_parent(kind.entity, owner_column, ordering)


async def emails_of(info: Info[Any, Any], owner_column: str, owner_id: Any) -> list[Email]:
    return cast(list[Email], await _values_loader(info, EMAILS, owner_column).load(owner_id))


async def phones_of(info: Info[Any, Any], owner_column: str, owner_id: Any) -> list[Phone]:
    return cast(list[Phone], await _values_loader(info, PHONES, owner_column).load(owner_id))
