"""IndustryByIdLoader, AccountTypeByIdLoader."""

from __future__ import annotations

import uuid

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from app.services.lookups.rows import AccountTypeRow, IndustryRow
from app.services.lookups.rules import ACCOUNT_TYPE, INDUSTRY
from resolvers.context import Context


def industry_by_id(info: Info[Context, None]) -> DataLoader[uuid.UUID, IndustryRow | None]:
    return info.context.loaders.by_id(INDUSTRY)


def account_type_by_id(info: Info[Context, None]) -> DataLoader[uuid.UUID, AccountTypeRow | None]:
    return info.context.loaders.by_id(ACCOUNT_TYPE)
