"""The fake's records: contacts as Lexware stores them, and voucherlist items with their details.

Pure data shaping, no HTTP and no state: the store (store.py) and the handlers build on it.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fake_lexware.formats import (
    Json,
    format_datetime,
    format_optional,
    html_escape,
    now,
    parse_datetime,
)

# The writable top-level fields of a contact ("Contact Properties"); everything else in a payload
# is read-only or unknown and is dropped, like the real API ignores client-sent ids, numbers and
# `archived`.
CONTACT_FIELDS = (
    "company",
    "person",
    "addresses",
    "xRechnung",
    "emailAddresses",
    "phoneNumbers",
    "note",
)
# Lexware keeps these HTML-escaped, which is why the `name` filter needs `&amp;` (the docs' FAQ
# on search string encoding).
NAME_FIELDS = (("company", "name"), ("person", "firstName"), ("person", "lastName"))


@dataclass
class StoredContact:
    """A contact in GET shape (`data`) plus the dates that only the action result shows."""

    data: Json
    created: datetime
    updated: datetime

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def version(self) -> int:
        return int(self.data["version"])


def escape_names(fragment: Json) -> Json:
    """A deep copy of a contact (or of changes to one) with its name fields HTML-escaped."""
    result = copy.deepcopy(fragment)
    for parent, name in NAME_FIELDS:
        holder = result.get(parent)
        if isinstance(holder, dict) and isinstance(holder.get(name), str):
            holder[name] = html_escape(holder[name])
    return result


def prune(value: Any) -> Any:
    """Drop nulls and empty objects/lists: the API omits absent sub-objects instead of sending
    null ("Contact Properties" samples)."""
    if isinstance(value, dict):
        pruned = {key: prune(item) for key, item in value.items()}
        return {key: item for key, item in pruned.items() if item not in (None, {}, [])}
    if isinstance(value, list):
        return [prune(item) for item in value if item is not None]
    return value


def deep_merge(base: Json, changes: Json) -> Json:
    """A copy of `base` with `changes` merged in: objects merge, anything else (lists included)
    replaces, and a null removes the key."""
    merged = copy.deepcopy(base)
    for key, change in changes.items():
        if change is None:
            merged.pop(key, None)
        elif isinstance(change, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], change)
        else:
            merged[key] = copy.deepcopy(change)
    return merged


def render_contact(data: Json) -> Json:
    """Key order of the docs' samples; keys the contact does not have are left out."""
    order = ("id", "organizationId", "version", "roles", *CONTACT_FIELDS, "archived")
    rendered = {key: copy.deepcopy(data[key]) for key in order if key in data}
    rendered.update({key: copy.deepcopy(v) for key, v in data.items() if key not in rendered})
    return rendered


def _text(holder: Any, key: str) -> str:
    value = holder.get(key) if isinstance(holder, dict) else None
    return value if isinstance(value, str) else ""


def contact_names(data: Json) -> list[str]:
    """What the `name` filter looks at (not documented beyond "name"): company name,
    "firstName lastName" and lastName."""
    person = data.get("person")
    first, last = _text(person, "firstName"), _text(person, "lastName")
    names = [_text(data.get("company"), "name"), f"{first} {last}".strip(), last]
    return [name for name in names if name]


def contact_list_name(data: Json) -> str:
    """The company name, or "Lastname, Firstname" for persons (the voucherlist's contactName)."""
    company = _text(data.get("company"), "name")
    if company:
        return company
    person = data.get("person")
    first, last = _text(person, "firstName"), _text(person, "lastName")
    return f"{last}, {first}" if first else last


def contact_sort_key(data: Json) -> tuple[str, str]:
    """Contacts are listed by name ASC ("Filtering Contacts"); persons sort by last name, and the
    id breaks ties so that paging is stable."""
    return contact_list_name(data).casefold(), str(data.get("id"))


def contact_emails(data: Json) -> list[str]:
    emails = data.get("emailAddresses")
    if not isinstance(emails, dict):
        return []
    return [e for values in emails.values() if isinstance(values, list) for e in values if e]


def role_numbers(data: Json) -> list[int]:
    roles = data.get("roles") or {}
    return [
        role["number"] for role in roles.values() if isinstance(role, dict) and "number" in role
    ]


# --- vouchers ("Voucherlist Endpoint") ------------------------------------------------------------

BOOKKEEPING_TYPES = ("salesinvoice", "salescreditnote", "purchaseinvoice", "purchasecreditnote")
# voucherType -> the collection of its detail endpoint ("Invoices Endpoint", "Quotations
# Endpoint", ...)
DETAIL_COLLECTIONS = {
    "invoice": "invoices",
    "downpaymentinvoice": "down-payment-invoices",
    "creditnote": "credit-notes",
    "quotation": "quotations",
    "orderconfirmation": "order-confirmations",
    "deliverynote": "delivery-notes",
    "dunning": "dunnings",
    **dict.fromkeys(BOOKKEEPING_TYPES, "vouchers"),
}
VOUCHER_TYPES = frozenset(DETAIL_COLLECTIONS)
VOUCHER_STATUSES = frozenset(
    [
        "draft",
        "open",
        "paid",
        "paidoff",
        "voided",
        "transferred",
        "sepadebit",
        "overdue",
        "accepted",
        "rejected",
        "unchecked",
    ]
)
_PREFIXES = {"invoice": "RE", "downpaymentinvoice": "AR", "creditnote": "GS", "quotation": "AG"}
_PREFIXES |= {"orderconfirmation": "AB", "deliverynote": "LS", "dunning": "MA"}
_PAYABLE = ("invoice", "downpaymentinvoice", "salesinvoice", "purchaseinvoice", "dunning")
_VOUCHER_KEYS = frozenset(
    [
        "id",
        "voucherType",
        "voucherStatus",
        "voucherNumber",
        "voucherDate",
        "createdDate",
        "updatedDate",
        "dueDate",
        "contactId",
        "contactName",
        "totalAmount",
        "openAmount",
        "currency",
        "archived",
    ]
)


@dataclass
class StoredVoucher:
    """A voucherlist item ("Voucherlist Properties"); `extra` holds seeded fields shown only by
    the detail endpoint."""

    id: str
    voucher_type: str
    status: str
    number: str
    voucher_date: datetime
    created: datetime
    updated: datetime
    due: datetime | None
    contact_id: str | None
    contact_name: str
    total: float
    open_amount: float | None
    archived: bool
    extra: Json = field(default_factory=dict)

    def item(self) -> Json:
        return {
            "id": self.id,
            "voucherType": self.voucher_type,
            "voucherStatus": self.status,
            "voucherNumber": self.number,
            "voucherDate": format_datetime(self.voucher_date),
            "createdDate": format_datetime(self.created),
            "updatedDate": format_datetime(self.updated),
            "dueDate": format_optional(self.due),
            "contactId": self.contact_id,
            "contactName": self.contact_name,
            "totalAmount": self.total,
            "openAmount": self.open_amount,
            "currency": "EUR",
            "archived": self.archived,
        }

    def is_overdue(self, at: datetime) -> bool:
        """`overdue` is open or sepadebit with a due date in the past ("Retrieve and Filter
        Voucherlist"), or seeded as such."""
        past_due = self.due is not None and self.due < at
        return self.status == "overdue" or (self.status in ("open", "sepadebit") and past_due)


def _default_open_amount(voucher_type: str, status: str, total: float) -> float | None:
    if status == "draft" or voucher_type not in (*_PAYABLE, "creditnote", "salescreditnote"):
        return None
    return 0.0 if status in ("paid", "paidoff", "voided") else total


def _default_contact_name(voucher_type: str, contact: Json | None) -> str:
    if contact is not None:
        return contact_list_name(contact)
    return "Sammellieferant" if voucher_type.startswith("purchase") else "Sammelkunde"


def build_voucher(
    raw: Json, sequence: int, find_contact: Callable[[str], Json | None]
) -> StoredVoucher:
    """A voucher from seed input: any voucherlist field may be given (dates as ISO strings or
    datetimes), the rest gets plausible defaults; unknown keys go to the detail view. `sequence`
    numbers it."""
    voucher_type = raw.get("voucherType", "invoice")
    status = raw.get("voucherStatus", "open")
    if voucher_type not in VOUCHER_TYPES or status not in VOUCHER_STATUSES:
        raise ValueError(f"unknown voucherType {voucher_type!r} or voucherStatus {status!r}")
    voucher_date = parse_datetime(raw.get("voucherDate") or now())
    created = parse_datetime(raw.get("createdDate") or voucher_date)
    due_default = voucher_date + timedelta(days=14) if voucher_type in _PAYABLE else None
    due = raw.get("dueDate", None if status == "draft" else due_default)  # an explicit null stays
    contact_id = raw.get("contactId")
    total = round(float(raw.get("totalAmount", 0.0)), 2)
    number = raw.get("voucherNumber") or f"{_PREFIXES.get(voucher_type, 'BE')}{sequence:04d}"
    return StoredVoucher(
        id=str(raw.get("id") or uuid.uuid4()),
        voucher_type=voucher_type,
        status=status,
        number=html_escape(number),
        voucher_date=voucher_date,
        created=created,
        updated=parse_datetime(raw.get("updatedDate") or created),
        due=None if due is None else parse_datetime(due),
        contact_id=None if contact_id is None else str(contact_id),
        contact_name=html_escape(raw["contactName"])  # stored escaped, like a contact's name
        if raw.get("contactName")
        else _default_contact_name(
            voucher_type, find_contact(str(contact_id)) if contact_id else None
        ),
        total=total,
        open_amount=raw.get("openAmount", _default_open_amount(voucher_type, status, total)),
        archived=bool(raw.get("archived", False)),
        extra={key: value for key, value in raw.items() if key not in _VOUCHER_KEYS},
    )
