"""Lexware contacts as the CRM shows them in a search."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from app.lexware import mapping
from app.services.companies.rows import CompanyRow
from app.services.companies.rules import COMPANY
from app.services.contacts.rows import ContactRow
from app.services.contacts.rules import CONTACT
from app.services.lexware import accounts
from app.services.lexware.search import FoundContact
from resolvers.context import Context

if TYPE_CHECKING:
    from resolvers.companies.types import Company
    from resolvers.contacts.types import Contact

CompanyRef = Annotated["Company", strawberry.lazy("resolvers.companies.types")]
ContactRef = Annotated["Contact", strawberry.lazy("resolvers.contacts.types")]


@strawberry.enum(description="A Lexware contact is a company or a person.")
class LexwareContactKind(enum.Enum):
    COMPANY = "COMPANY"
    PERSON = "PERSON"


def _role_number(contact: dict[str, Any], role: str) -> int | None:
    number = ((contact.get("roles") or {}).get(role) or {}).get("number")
    return number if isinstance(number, int) else None


def _first(lists: Any) -> str | None:
    for items in (lists or {}).values():
        for item in items or []:
            if isinstance(item, str):
                return item
    return None


@strawberry.type(description="A contact in Lexware Office, and the CRM record linked to it.")
class LexwareContact:
    found: strawberry.Private[FoundContact]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.found.contact["id"])

    @strawberry.field
    def name(self) -> str:
        return mapping.display_name(self.found.contact)

    @strawberry.field
    def kind(self) -> LexwareContactKind:
        company = mapping.is_company(self.found.contact)
        return LexwareContactKind.COMPANY if company else LexwareContactKind.PERSON

    @strawberry.field(description="Kundennummer.")
    def customer_number(self) -> int | None:
        return _role_number(self.found.contact, "customer")

    @strawberry.field(description="Lieferantennummer.")
    def vendor_number(self) -> int | None:
        return _role_number(self.found.contact, "vendor")

    @strawberry.field
    def email(self) -> str | None:
        return _first(self.found.contact.get("emailAddresses"))

    @strawberry.field
    def archived(self) -> bool:
        return bool(self.found.contact.get("archived"))

    @strawberry.field
    def version(self) -> int:
        return int(self.found.contact.get("version") or 0)

    @strawberry.field(description="Opens the contact in the Lexware web app.")
    def web_app_url(self, info: Info[Context, None]) -> str:
        return info.context.lexware.deep_link("contacts", self.found.contact["id"])

    @strawberry.field(
        description="The CRM company linked to it, if any.", graphql_type=CompanyRef | None
    )
    async def linked_company(self, info: Info[Context, None]) -> CompanyRow | None:
        if self.found.company_id is None:
            return None
        return await info.context.loaders.by_id(COMPANY).load(self.found.company_id)

    @strawberry.field(
        description="The CRM contact linked to it, if any.", graphql_type=ContactRef | None
    )
    async def linked_contact(self, info: Info[Context, None]) -> ContactRow | None:
        if self.found.contact_id is None:
            return None
        return await info.context.loaders.by_id(CONTACT).load(self.found.contact_id)


@strawberry.type(description="One page of a Lexware contact search (Lexware pages from 0).")
class LexwareContactPage:
    items: list[LexwareContact]
    page: int
    total_pages: int
    total_elements: int


@strawberry.enum(description="Whose key the tenant's Lexware calls use.")
class LexwareKeySource(enum.Enum):
    TENANT = "TENANT"
    SERVER = "SERVER"
    NONE = "NONE"


@strawberry.type(description="The tenant's Lexware connection. The key itself is never shown.")
class LexwareStatus:
    source: LexwareKeySource
    key_hint: str | None = strawberry.field(description="The key's last 4 characters.")
    working: bool | None = strawberry.field(
        description="Whether Lexware accepts the key (null when there is none)."
    )
    organization: str | None
    message: str | None

    @classmethod
    def of(cls, status: accounts.LexwareStatus) -> LexwareStatus:
        return cls(
            source=LexwareKeySource(status.source),
            key_hint=status.key_hint,
            working=status.working,
            organization=status.organization,
            message=status.message,
        )
