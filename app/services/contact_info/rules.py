"""E-mail addresses and phone numbers as values: what a valid one is, the two kinds (their
table, value column and how duplicates compare), and what a whole list sent in a create or
update may hold. The writes that keep one primary per owner are in
app/services/contact_info/service.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import phonenumbers
from pydantic import AfterValidator, computed_field

from app.data import records
from app.data.records import Entity
from app.errors import BadUserInput, Conflict, FieldProblem, NotFound
from app.services.common import identifiers
from app.services.common.validation import Input, validate
from app.services.contact_info.rows import EmailRow, PhoneRow, ValueRow
from models import ContactEmail, ContactPhone, EmailType, PhoneType

# email-validator (syntax only) and phonenumbers (valid for its country, DE by default): see
# app.services.common.identifiers; under foreign_values() a failing value is kept and noted.
Email = Annotated[str, AfterValidator(identifiers.checked(identifiers.email, 320, optional=False))]
Phone = Annotated[str, AfterValidator(identifiers.checked(identifiers.phone, 50, optional=False))]


class EmailInput(Input):
    email: Email
    type: EmailType = EmailType.WORK
    is_primary: bool = False


class PhoneInput(Input):
    phone: Phone
    type: PhoneType = PhoneType.OFFICE
    is_primary: bool = False

    @computed_field  # type: ignore[prop-decorator]
    @property
    def e164(self) -> str | None:
        """Stored beside the number as typed (`model_dump` carries it to the insert)."""
        return phone_e164(self.phone)


PHONE_REGION = "DE"  # a number without a country code is German (as search reads numbers)


def phone_e164(phone: str) -> str | None:
    """The number in E.164 (`+497111234560`), None when `phonenumbers` cannot read it as a
    possible number: what duplicates compare, whatever format it was typed in."""
    try:
        parsed = phonenumbers.parse(phone, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# The rows of a kind of value: an EmailRow or a PhoneRow.
ValueRowT = TypeVar("ValueRowT", bound=ValueRow, covariant=True)


@dataclass(frozen=True)
class ValueKind(Generic[ValueRowT]):
    """E-mails or phones: the table, the value column and how duplicates compare."""

    entity: Entity[ValueRowT]
    value: str
    input: type[Input]
    field: str  # the GraphQL list name, for error paths

    def same(self, text: str) -> str:
        return text.lower() if self.value == "email" else "".join(c for c in text if c.isdigit())


def _busy() -> Conflict:
    return Conflict("The record was changed at the same time; try again.")


def _duplicate(kind: str) -> records.ErrorFactory:
    return lambda: Conflict(f"This {kind} is already stored for this record.")


EMAILS = ValueKind(
    Entity(
        ContactEmail,
        "E-mail address",
        {
            "uq_contact_email_contact_id_value": _duplicate("e-mail address"),
            "uq_contact_email_contact_id_primary": _busy,
            "uq_contact_email_company_id_primary": _busy,
            "uq_contact_email_company_id_value": _duplicate("e-mail address"),
            "fk_contact_email_contact_id_contact": lambda: NotFound("Contact"),
            "fk_contact_email_company_id_company": lambda: NotFound("Company"),
        },
        row=EmailRow,
    ),
    "email",
    EmailInput,
    "emails",
)
PHONES = ValueKind(
    Entity(
        ContactPhone,
        "Phone number",
        {
            "uq_contact_phone_contact_id_value": _duplicate("phone number"),
            "uq_contact_phone_contact_id_primary": _busy,
            "uq_contact_phone_company_id_primary": _busy,
            "uq_contact_phone_company_id_value": _duplicate("phone number"),
            "fk_contact_phone_contact_id_contact": lambda: NotFound("Contact"),
            "fk_contact_phone_company_id_company": lambda: NotFound("Company"),
        },
        row=PhoneRow,
    ),
    "phone",
    PhoneInput,
    "phones",
)
MAX_VALUES = 20


def validate_list(
    kind: ValueKind[ValueRow], items: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """A whole list as sent in create/update: valid, no duplicates, one primary."""
    if len(items) > MAX_VALUES:
        raise BadUserInput.single(kind.field, f"at most {MAX_VALUES} entries")
    parsed: list[dict[str, Any]] = []
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        try:
            value = validate(kind.input, item).model_dump()
        except BadUserInput as error:
            problems += [
                FieldProblem(f"{kind.field}[{index}].{p.field}", p.message) for p in error.problems
            ]
            continue
        if kind.same(value[kind.value]) in seen:
            problems.append(FieldProblem(f"{kind.field}[{index}].{kind.value}", "is listed twice"))
        seen.add(kind.same(value[kind.value]))
        parsed.append(value)
    if sum(v["is_primary"] for v in parsed) > 1:
        problems.append(FieldProblem(kind.field, "only one entry can be primary"))
    if problems:
        raise BadUserInput(problems)
    if parsed and not any(v["is_primary"] for v in parsed):
        parsed[0]["is_primary"] = True
    return parsed


ValueLists = list[tuple[ValueKind[ValueRow], list[dict[str, Any]]]]


def split_values(data: Mapping[str, Any]) -> tuple[dict[str, Any], ValueLists]:
    """Separate the `emails`/`phones` lists (when sent) from the record's own fields."""
    own = dict(data)
    lists: ValueLists = [
        (kind, validate_list(kind, own.pop(kind.field) or []))
        for kind in (EMAILS, PHONES)
        if kind.field in own
    ]
    return own, lists
