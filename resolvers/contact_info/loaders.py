"""EmailsByContactLoader, EmailsByCompanyLoader, PhonesBy...: primary first, then oldest."""

from __future__ import annotations

import functools

from sqlmodel import col
from strawberry.types import Info

from app.services.contact_info.rows import EmailRow, PhoneRow
from app.services.contact_info.rules import EMAILS, MAX_VALUES, PHONES, ValueKind, ValueRowT
from resolvers.common.children import Identified, related
from resolvers.common.relations import ToMany
from resolvers.context import Context


@functools.cache
def values_relation(kind: ValueKind[ValueRowT], owner_column: str) -> ToMany[ValueRowT]:
    """All values of a company or contact (no limit: at most MAX_VALUES each)."""
    model = kind.entity.model
    ordering = (col(model.is_primary).desc(), col(model.created_at), col(model.id))
    return ToMany(kind.entity, owner_column, ordering, limited=False, at_most=MAX_VALUES)


def emails_relation(owner_column: str) -> ToMany[EmailRow]:
    return values_relation(EMAILS, owner_column)


def phones_relation(owner_column: str) -> ToMany[PhoneRow]:
    return values_relation(PHONES, owner_column)


async def emails_of(
    info: Info[Context, None], owner_column: str, root: Identified
) -> list[EmailRow]:
    return await related(info, emails_relation(owner_column), root)


async def phones_of(
    info: Info[Context, None], owner_column: str, root: Identified
) -> list[PhoneRow]:
    return await related(info, phones_relation(owner_column), root)
