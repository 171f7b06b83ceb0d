"""What the data quality report checks (declarations, no I/O): the stored identifiers of each
table, each by the same check that validates input (app.services.common.identifiers).

A value that passes is fine as stored even when input would store it differently (a VAT id
with spaces from an older version reads and works as it is); only a failing one is an issue.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.services.common import identifiers
from app.services.common.identifiers import IdentifierError, Reason


class RecordType(StrEnum):
    COMPANY = "COMPANY"
    CONTACT = "CONTACT"


@dataclass(frozen=True)
class Issue:
    record_type: RecordType
    record_id: uuid.UUID
    field: str  # the GraphQL path, as an input error names it: `vatId`, `billingAddress.zip`
    value: str
    reason: Reason
    message: str


# A field's check: the value and the row it is in (a postcode needs its address's country).
Check = Callable[[str, Mapping[str, Any]], str]


def _plain(check: Callable[[str], str]) -> Check:
    return lambda value, _row: check(value)


def _postcode(address: str) -> Check:
    def check(value: str, row: Mapping[str, Any]) -> str:
        country = (row.get(address) or {}).get("country_code") or "DE"
        return identifiers.postcode(value, str(country))

    return check


@dataclass(frozen=True)
class Field:
    name: str  # the GraphQL path
    read: Callable[[Mapping[str, Any]], Any]  # the stored value from the row
    check: Check


def _column(name: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda row: row.get(name)


def _zip(address: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda row: (row.get(address) or {}).get("zip")


COMPANY_FIELDS = (
    Field("vatId", _column("vat_id"), _plain(identifiers.vat_id)),
    Field("taxId", _column("tax_id"), _plain(identifiers.tax_number)),
    Field(
        "tradeRegisterNumber", _column("trade_register_number"), _plain(identifiers.register_text)
    ),
    Field("registerCourt", _column("register_court"), _plain(identifiers.register_court)),
    Field("billingAddress.zip", _zip("billing_address"), _postcode("billing_address")),
    Field("deliveryAddress.zip", _zip("delivery_address"), _postcode("delivery_address")),
)
EMAIL_FIELDS = (Field("emails", _column("email"), _plain(identifiers.email)),)
PHONE_FIELDS = (Field("phones", _column("phone"), _plain(identifiers.phone)),)


def issues_of(
    fields: tuple[Field, ...], row: Mapping[str, Any], record: tuple[RecordType, uuid.UUID]
) -> list[tuple[int, Issue]]:
    """The row's failing values, each with its field's position (the order within a row)."""
    found: list[tuple[int, Issue]] = []
    for index, field in enumerate(fields):
        value = field.read(row)
        if value is None or value == "":
            continue
        try:
            field.check(str(value), row)
        except IdentifierError as error:
            issue = Issue(*record, field.name, str(value), error.reason, error.message)
            found.append((index, issue))
    return found
