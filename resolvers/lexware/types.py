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
    COMPANY = strawberry.enum_value(
        "COMPANY", description="A company contact: links to, and imports as, a CRM company."
    )
    PERSON = strawberry.enum_value(
        "PERSON", description="A person contact: links to, and imports as, a CRM contact."
    )


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

    @strawberry.field(
        description="Lexware's id of the contact (a UUID): what linkCompanyToLexware, "
        "importCompanyFromLexware and the contact variants take as lexwareContactId."
    )
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.found.contact["id"])

    @strawberry.field(
        description="The company name, or a person's first and last name, as Lexware holds it."
    )
    def name(self) -> str:
        return mapping.display_name(self.found.contact)

    @strawberry.field(description="Whether it is a company or a person in Lexware.")
    def kind(self) -> LexwareContactKind:
        company = mapping.is_company(self.found.contact)
        return LexwareContactKind.COMPANY if company else LexwareContactKind.PERSON

    @strawberry.field(
        description="Its customer number (Kundennummer), assigned by Lexware; null when it is "
        "no customer."
    )
    def customer_number(self) -> int | None:
        return _role_number(self.found.contact, "customer")

    @strawberry.field(
        description="Its vendor number (Lieferantennummer), assigned by Lexware; null when it "
        "is no vendor."
    )
    def vendor_number(self) -> int | None:
        return _role_number(self.found.contact, "vendor")

    @strawberry.field(description="Its first e-mail address in Lexware; null: none.")
    def email(self) -> str | None:
        return _first(self.found.contact.get("emailAddresses"))

    @strawberry.field(
        description="Archived in the Lexware web app (the API cannot change this); archived "
        "contacts are still found."
    )
    def archived(self) -> bool:
        return bool(self.found.contact.get("archived"))

    @strawberry.field(
        description="Lexware's revision of the contact: grows with every change there, also "
        "those made in the Lexware web app."
    )
    def version(self) -> int:
        return int(self.found.contact.get("version") or 0)

    @strawberry.field(
        description="A link that opens the contact in the Lexware web app (LEXWARE_APP_URL)."
    )
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
    items: list[LexwareContact] = strawberry.field(
        description="The contacts of this page (at most 25), sorted by name as Lexware sorts."
    )
    page: int = strawberry.field(description="This page's number, counting from 0.")
    total_pages: int = strawberry.field(
        description="How many pages the search has; ask for `page` up to totalPages - 1."
    )
    total_elements: int = strawberry.field(description="How many contacts match, across all pages.")


@strawberry.enum(description="Whose key the tenant's Lexware calls use.")
class LexwareKeySource(enum.Enum):
    TENANT = strawberry.enum_value(
        "TENANT", description="The tenant's own key, set by an admin with setLexwareApiKey."
    )
    SERVER = strawberry.enum_value(
        "SERVER",
        description="The server's key (LEXWARE_API_KEY), which serves tenants without one.",
    )
    NONE = strawberry.enum_value(
        "NONE",
        description="No key: Lexware operations answer LEXWARE_NOT_CONFIGURED; the rest of "
        "the CRM works.",
    )


@strawberry.type(description="The tenant's Lexware connection. The key itself is never shown.")
class LexwareStatus:
    source: LexwareKeySource = strawberry.field(description="Whose key the calls use.")
    key_hint: str | None = strawberry.field(
        description="The last 4 characters of the tenant's own key, to tell keys apart; null "
        "when the tenant has none (the server's key is never hinted)."
    )
    working: bool | None = strawberry.field(
        description="Whether Lexware accepts the key (null when there is none)."
    )
    organization: str | None = strawberry.field(
        description="The Lexware organization (company name) the key belongs to; null when "
        "the key is missing or not working."
    )
    message: str | None = strawberry.field(
        description="Why Lexware is not usable (no key, refused, unavailable), for people; "
        "null when it works."
    )

    @classmethod
    def of(cls, status: accounts.LexwareStatus) -> LexwareStatus:
        return cls(
            source=LexwareKeySource(status.source),
            key_hint=status.key_hint,
            working=status.working,
            organization=status.organization,
            message=status.message,
        )
