"""CRM <-> Lexware contact data (pure functions, no I/O): Lexware -> CRM here, CRM -> Lexware
field by field in `app.lexware.fields`.

- company <-> company contact: name, VAT id <-> vatRegistrationId, tax id <-> taxNumber,
  billing/delivery address <-> addresses.billing/shipping, e-mails and phones by type, the
  primary contact person.
- contact <-> person contact: salutation, names, e-mails and phones.

Lexware takes at most one entry per list on write: the CRM's primary value of each kind goes,
the others stay in the CRM. Lexware stores names HTML-escaped (contact names, and in the
voucherlist contactName and voucherNumber); reads unescape them, once, here (`text`).
"""

from __future__ import annotations

import copy
import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# CRM type -> Lexware list, and back (Lexware has more lists than the CRM has types).
EMAIL_TO_LEXWARE = {"WORK": "business", "PERSONAL": "private", "OTHER": "other"}
EMAIL_FROM_LEXWARE = {"business": "WORK", "office": "WORK", "private": "PERSONAL", "other": "OTHER"}
PHONE_TO_LEXWARE = {"OFFICE": "business", "MOBILE": "mobile", "FAX": "fax"}
PHONE_FROM_LEXWARE = {
    "business": "OFFICE",
    "office": "OFFICE",
    "mobile": "MOBILE",
    "fax": "FAX",
    "private": "OFFICE",
    "other": "OFFICE",
}
READ_ONLY = ("id", "organizationId", "archived", "createdDate", "updatedDate")
# Stored HTML-escaped by Lexware (its API documentation's FAQ on search string encoding):
# read through `text`.
NAME_FIELDS = (("company", "name"), ("person", "firstName"), ("person", "lastName"))
SALUTATION_MAX = 25


@dataclass(frozen=True)
class Value:
    """An e-mail address or phone number with its CRM type."""

    value: str
    type: str
    is_primary: bool = False


@dataclass(frozen=True)
class PersonData:
    salutation: str | None
    first_name: str | None
    last_name: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class CrmData:
    """What the CRM holds of one record, in mapping terms."""

    fields: dict[str, Any]
    emails: list[Value] = field(default_factory=list)
    phones: list[Value] = field(default_factory=list)


def _values(
    lists: Any, from_lexware: Mapping[str, str], to_lexware: Mapping[str, str]
) -> list[Value]:
    """Lexware's entries with their CRM types, those of the lists the CRM writes (business,
    mobile, ...) first: the primary, and the first value of each type, are what a push would
    write back to that list."""
    written = set(to_lexware.values())
    named = sorted((lists or {}).items(), key=lambda item: item[0] not in written)
    found: list[Value] = []
    for name, items in named:
        for item in items or []:
            if isinstance(item, str) and item and all(v.value != item for v in found):
                found.append(Value(item, from_lexware.get(name, next(iter(from_lexware.values())))))
    return [Value(v.value, v.type, index == 0) for index, v in enumerate(found)]


def synced_values(
    mine: list[Value], theirs: list[Value], first: Mapping[str, str], to_lexware: Mapping[str, str]
) -> list[Value]:
    """The CRM's e-mails or phones after a sync: its own (Lexware holds one per list: the
    others stay), then Lexware's it lacks. Lexware's entry on the list of the primary's type
    (`first`: list -> value) becomes the primary: the CRM takes Lexware's value of that kind,
    and the one it had stays as another value."""
    known = {same_value(v.value) for v in mine}
    merged = list(mine) + [
        Value(v.value, v.type, False) for v in theirs if same_value(v.value) not in known
    ]
    primary = next((v for v in merged if v.is_primary), None)
    if primary is None:
        return [Value(v.value, v.type, index == 0) for index, v in enumerate(merged)]
    wanted = first.get(to_lexware[primary.type])
    if wanted is None or same_value(wanted) == same_value(primary.value):
        return merged
    match = [
        index
        for index, v in enumerate(merged)
        if v.type == primary.type and same_value(v.value) == same_value(wanted)
    ]
    if not match:  # the CRM holds Lexware's value as another type: its own choice stays
        return merged
    return [Value(v.value, v.type, index == match[0]) for index, v in enumerate(merged)]


def _address_from_lexware(entries: Any) -> dict[str, Any] | None:
    if not entries:
        return None
    first = entries[0]
    return {
        "street": first.get("street"),
        "supplement": first.get("supplement"),
        "zip": first.get("zip"),
        "city": first.get("city"),
        "country_code": first.get("countryCode") or "DE",
    }


def writable(existing: Mapping[str, Any] | None) -> dict[str, Any]:
    """A PUT sends the whole contact: start from Lexware's copy (keeping what the CRM does not
    manage: roles, note, xRechnung) as text to write, a create from an empty customer."""
    if existing is None:
        return {"version": 0, "roles": {"customer": {}}}
    body = copy.deepcopy(dict(existing))
    for key in READ_ONLY:
        body.pop(key, None)
    if isinstance(body.get("note"), str):
        body["note"] = html.unescape(body["note"])  # read escaped, written as text
    for group, name in NAME_FIELDS:  # sent back unchanged, they must not be escaped twice
        holder = body.get(group)
        if isinstance(holder, dict) and isinstance(holder.get(name), str):
            holder[name] = html.unescape(holder[name])
    # Lists edited in the web app may hold several entries; a write takes one per list.
    for group in ("addresses", "emailAddresses", "phoneNumbers"):
        if isinstance(body.get(group), dict):
            body[group] = {name: items[:1] for name, items in body[group].items() if items}
    if isinstance(body.get("company"), dict) and body["company"].get("contactPersons"):
        body["company"]["contactPersons"] = body["company"]["contactPersons"][:1]
    return body


def text(value: Any) -> str | None:
    """A text Lexware stores HTML-escaped, as it reads (None when empty)."""
    return html.unescape(value) if isinstance(value, str) and value else None


def company_from_lexware(contact: Mapping[str, Any]) -> CrmData:
    """Only what Lexware has: a value Lexware lacks leaves the CRM's as it is."""
    company = contact.get("company") or {}
    addresses = contact.get("addresses") or {}
    fields = {
        "name": text(company.get("name")) or "(ohne Namen)",
        "vat_id": company.get("vatRegistrationId") or None,
        "tax_id": company.get("taxNumber") or None,
        "billing_address": _address_from_lexware(addresses.get("billing")),
        "delivery_address": _address_from_lexware(addresses.get("shipping")),
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    return CrmData(
        fields,
        _values(contact.get("emailAddresses"), EMAIL_FROM_LEXWARE, EMAIL_TO_LEXWARE),
        _values(contact.get("phoneNumbers"), PHONE_FROM_LEXWARE, PHONE_TO_LEXWARE),
    )


def contact_from_lexware(contact: Mapping[str, Any]) -> CrmData:
    person = contact.get("person") or {}
    fields = {
        "salutation": text(person.get("salutation")),
        "first_name": text(person.get("firstName")),
        "last_name": text(person.get("lastName")) or "(ohne Namen)",
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    return CrmData(
        fields,
        _values(contact.get("emailAddresses"), EMAIL_FROM_LEXWARE, EMAIL_TO_LEXWARE),
        _values(contact.get("phoneNumbers"), PHONE_FROM_LEXWARE, PHONE_TO_LEXWARE),
    )


def display_name(contact: Mapping[str, Any]) -> str:
    company = contact.get("company")
    if company:
        return text(company.get("name")) or ""
    person = contact.get("person") or {}
    names = [text(person.get("firstName")), text(person.get("lastName"))]
    return " ".join(n for n in names if n)


def is_company(contact: Mapping[str, Any]) -> bool:
    return bool(contact.get("company"))


def same_value(text: str) -> str:
    """How values compare across the two systems: e-mails ignoring case, phones by digits."""
    if "@" in text:
        return text.strip().lower()
    return "".join(ch for ch in text if ch.isdigit())


def _all_values(contact: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    for lists in (contact.get("emailAddresses"), contact.get("phoneNumbers")):
        for items in (lists or {}).values():
            found |= {same_value(item) for item in items or [] if isinstance(item, str)}
    return found


def same_lists(stored: Mapping[str, Any], sent: Mapping[str, Any]) -> bool:
    """Whether a contact found in Lexware carries the e-mails and phones we sent."""
    return _all_values(sent) <= _all_values(stored)


def search_text(text: str) -> str:
    """A name or e-mail filter as Lexware wants it: `&<>` HTML-encoded, LIKE wildcards escaped
    (the query string is URL-encoded by the HTTP client)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return html.escape(escaped, quote=False)
