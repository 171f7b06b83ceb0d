"""IndustryByIdLoader, AccountTypeByIdLoader."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from app.services.lookups.rules import ACCOUNT_TYPE, INDUSTRY
from resolvers.context import context_of
from resolvers.loaders import RowLoader


def industry_by_id(info: Info[Any, Any]) -> RowLoader:
    return context_of(info).loaders.by_id(INDUSTRY)


def account_type_by_id(info: Info[Any, Any]) -> RowLoader:
    return context_of(info).loaders.by_id(ACCOUNT_TYPE)
