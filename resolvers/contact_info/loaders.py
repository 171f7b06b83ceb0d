"""EmailsByContactLoader, EmailsByCompanyLoader, PhonesBy...: primary first, then oldest."""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlmodel import col
from strawberry.types import Info

from app.services.contact_info.rules import EMAILS, MAX_VALUES, PHONES, ValueKind
from resolvers.common.children import related
from resolvers.common.relations import ToMany
from resolvers.contact_info.types import Email, Phone
from resolvers.context import Context


@functools.cache
def values_relation(kind: ValueKind, owner_column: str) -> ToMany:
    """All values of a company or contact (no limit: at most MAX_VALUES each)."""
    model = kind.entity.model
    ordering = (col(model.is_primary).desc(), col(model.created_at), col(model.id))
    return ToMany(kind.entity, owner_column, ordering, limited=False, at_most=MAX_VALUES)


def emails_relation(owner_column: str) -> ToMany:
    return values_relation(EMAILS, owner_column)


def phones_relation(owner_column: str) -> ToMany:
    return values_relation(PHONES, owner_column)


async def emails_of(info: Info[Context, None], owner_column: str, root: Any) -> list[Email]:
    return cast(list[Email], await related(info, emails_relation(owner_column), root))


async def phones_of(info: Info[Context, None], owner_column: str, root: Any) -> list[Phone]:
    return cast(list[Phone], await related(info, phones_relation(owner_column), root))
