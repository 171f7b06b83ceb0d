"""Finding Lexware contacts from the CRM, with the CRM records they are linked to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.data.tenancy import TenantScope
from app.errors import BadUserInput
from app.lexware import mapping
from app.lexware.client import LexwareClient
from models import Company, Contact


@dataclass(frozen=True)
class ContactSearch:
    name: str | None = None
    email: str | None = None
    number: int | None = None
    customer: bool | None = None
    vendor: bool | None = None
    page: int = 0


@dataclass(frozen=True)
class FoundContact:
    contact: dict[str, Any]
    company_id: uuid.UUID | None  # the CRM record it is linked to, if any
    contact_id: uuid.UUID | None


@dataclass(frozen=True)
class FoundPage:
    items: list[FoundContact]
    page: int
    total_pages: int
    total_elements: int


def check_search(query: ContactSearch) -> None:
    for field, value in (("name", query.name), ("email", query.email)):
        if value is not None and not 3 <= len(value.strip()) <= 200:
            raise BadUserInput.single(field, "must be 3 to 200 characters")
    if not 0 <= query.page <= 10_000:
        raise BadUserInput.single("page", "must be between 0 and 10000")


async def search(client: LexwareClient, scope: TenantScope, query: ContactSearch) -> FoundPage:
    """Lexware contacts matching all filters given, and which CRM records they are linked to."""
    check_search(query)
    params = {
        "name": mapping.search_text(query.name.strip()) if query.name else None,
        "email": mapping.search_text(query.email.strip()) if query.email else None,
        "number": query.number,
        "customer": query.customer,
        "vendor": query.vendor,
        "page": query.page,
        "size": 25,
    }
    found = await client.get("/v1/contacts", params)
    content = [c for c in found.get("content") or [] if isinstance(c, dict)]
    ids = [uuid.UUID(c["id"]) for c in content]
    companies_by_link = await _linked(scope, Company, ids)
    contacts_by_link = await _linked(scope, Contact, ids)
    items = [
        FoundContact(c, companies_by_link.get(i), contacts_by_link.get(i))
        for c, i in zip(content, ids, strict=True)
    ]
    return FoundPage(
        items, int(found.get("number", 0)), int(found.get("totalPages", 0)),
        int(found.get("totalElements", 0)),
    )  # fmt: skip


async def _linked(
    scope: TenantScope, model: Any, ids: list[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    if not ids:
        return {}
    statement = sa.select(col(model.lexware_contact_id), col(model.id)).where(
        col(model.lexware_contact_id).in_(ids)
    )
    async with scope.reading() as reads:
        return {row[0]: row[1] for row in await reads.execute_rows(statement)}
