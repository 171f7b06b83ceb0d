"""IndustryByIdLoader, AccountTypeByIdLoader."""

from __future__ import annotations

from strawberry.types import Info

from app.services.lookups.service import ACCOUNT_TYPE, INDUSTRY
from resolvers.context import Context
from resolvers.loaders import RowLoader


def industry_by_id(info: Info[Context, None]) -> RowLoader:
    return info.context.loaders.by_id(INDUSTRY)


def account_type_by_id(info: Info[Context, None]) -> RowLoader:
    return info.context.loaders.by_id(ACCOUNT_TYPE)
