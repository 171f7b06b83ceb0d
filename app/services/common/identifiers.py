"""Identifiers checked by maintained libraries: VAT ids with their check digits (python-stdnum),
German tax numbers (Steuernummer) and Handelsregister numbers with their court, German postcodes,
phone numbers (phonenumbers, region DE by default) and e-mail syntax (email-validator, no DNS).

Each check returns the value as stored (normalized where that helps: a VAT id compact and upper
case) or raises `IdentifierError` with a reason and a message a person can act on. The same
checks validate input (app.services.common.validation) and find stored values that fail them
(app.services.data_quality), so a value is never accepted by one and reported by the other.

Values from another system (a Lexware import or sync) are checked under `foreign_values()`:
one that fails is kept as it came (trimmed) and noted instead of refusing the whole record,
because the sync must not break on data the CRM cannot fix in Lexware; the data quality report
lists it afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum import exceptions as stdnum_errors
from stdnum.ch import vat as ch_vat
from stdnum.de import handelsregisternummer, stnr
from stdnum.eu import vat as eu_vat
from stdnum.gb import vat as gb_vat
from stdnum.no import mva as no_vat


class Reason(StrEnum):
    """Why a value fails its check (the report's enum)."""

    WRONG_CHECK_DIGIT = "WRONG_CHECK_DIGIT"
    INVALID_FORMAT = "INVALID_FORMAT"
    INVALID_LENGTH = "INVALID_LENGTH"
    UNSUPPORTED_COUNTRY = "UNSUPPORTED_COUNTRY"
    UNKNOWN_COURT = "UNKNOWN_COURT"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    NOT_ASSIGNED = "NOT_ASSIGNED"


class IdentifierError(ValueError):
    """A value that fails its check (a ValueError, so pydantic reports it on its field)."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


# ---- VAT identification numbers -------------------------------------------------------------

# EU member states by their VAT prefix (Greece is EL, Northern Ireland XI), checked by
# stdnum.eu.vat; outside the EU only the countries German businesses invoice most that have a
# VAT id with a check digit: Switzerland (CHE, UID), the United Kingdom and Norway.
_EU_VAT = "AT BE BG CY CZ DE DK EE EL ES FI FR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK XI"
EU_VAT_PREFIXES = frozenset(_EU_VAT.split(" "))
_OTHER_VAT = {"CH": ch_vat, "GB": gb_vat, "NO": no_vat}
VAT_EXAMPLE = "e.g. DE811907980"


def vat_id(value: str) -> str:
    """A VAT id with its country prefix, compact and upper case (`de 811 907 980` is stored
    as `DE811907980`)."""
    text = re.sub(r"[\s.\-/]", "", value).upper()
    prefix = text[:2]
    try:
        if prefix in EU_VAT_PREFIXES:
            return str(eu_vat.validate(text))
        module = _OTHER_VAT.get(prefix)
        if module is not None:
            compact = str(module.validate(text))
            return compact if compact.startswith(prefix) else prefix + compact
    except stdnum_errors.ValidationError as error:
        raise _stdnum_error(error, "VAT identification number", VAT_EXAMPLE) from None
    raise IdentifierError(
        Reason.UNSUPPORTED_COUNTRY,
        "must start with the country prefix of an EU state (Greece: EL), CHE, GB or NO, "
        + VAT_EXAMPLE,
    )


def _stdnum_error(error: Exception, what: str, example: str) -> IdentifierError:
    if isinstance(error, stdnum_errors.InvalidChecksum):
        return IdentifierError(
            Reason.WRONG_CHECK_DIGIT, f"is not a valid {what}: the check digit is wrong"
        )
    if isinstance(error, stdnum_errors.InvalidLength):
        return IdentifierError(
            Reason.INVALID_LENGTH, f"has the wrong length for a {what}, {example}"
        )
    return IdentifierError(Reason.INVALID_FORMAT, f"is not a valid {what}, {example}")


# ---- Steuernummer ---------------------------------------------------------------------------

TAX_EXAMPLE = "e.g. 93815/08152 or 2893081508152"


def tax_number(value: str) -> str:
    """A German Steuernummer in the regional form of a state (10 or 11 digits, as on a tax
    office's letters, separators allowed) or the 13-digit nationwide form. Stored as typed
    (whitespace trimmed): the slashes are how people read and compare it."""
    text = " ".join(value.split())
    try:
        stnr.validate(text)
    except stdnum_errors.ValidationError as error:
        raise _stdnum_error(error, "German tax number (Steuernummer)", TAX_EXAMPLE) from None
    return text


# ---- Handelsregister --------------------------------------------------------------------------

REGISTER_EXAMPLE = "e.g. HRB 12345 (with its court: Stuttgart HRB 12345)"
_COURT_PREFIX = re.compile(r"^(amtsgericht|registergericht|ag)\b\.?\s*", re.I)
_REGISTER_TYPES = "|".join(handelsregisternummer.REGISTRY_TYPES)
# The number without its court, in the library's own syntax: a type, a number, a qualifier.
_WITHOUT_COURT = re.compile(
    rf"^({_REGISTER_TYPES})\s*([1-9][0-9]{{0,5}})(?:\s*([A-ZÖ]{{1,3}}))?$", re.I
)
_TYPE_SPELLINGS = {kind.lower(): kind for kind in handelsregisternummer.REGISTRY_TYPES}
_PROBE_COURT = "Aachen"  # any known court: the library checks a number only with one


@dataclass(frozen=True)
class RegisterNumber:
    number: str  # the type, number and qualifier: `HRB 12345`
    court: str | None  # the court's name as the library spells it, if the text named one


def _type_spelling(match: re.Match[str]) -> str:
    return _TYPE_SPELLINGS[match.group(1).lower()]


def register_court(value: str) -> str:
    """A Registergericht (an Amtsgericht keeping a Handelsregister), stored by the name the
    register uses: `Amtsgericht München` and `AG Muenchen` are both `München`."""
    name = _COURT_PREFIX.sub("", " ".join(value.split())).strip(" ,")
    try:
        found = str(handelsregisternummer.validate(f"{name} HRB 1"))
    except stdnum_errors.ValidationError:
        raise IdentifierError(
            Reason.UNKNOWN_COURT, "is not a German register court, e.g. Amtsgericht Stuttgart"
        ) from None
    return found.removesuffix(" HRB 1")


def register_number(value: str) -> RegisterNumber:
    """A Handelsregisternummer, with or without its court (`HRB 12345`, `HRB12345`,
    `Amtsgericht Stuttgart HRB 12345`, `HRB 12345, Stuttgart`)."""
    text = " ".join(value.split())
    # the register's type as the register spells it (`hrb12345` -> `HRB 12345`)
    text = re.sub(rf"(?i)\b({_REGISTER_TYPES})(?=\d|\s|$)", _type_spelling, text)
    text = re.sub(rf"\b({_REGISTER_TYPES})(?=\d)", r"\1 ", text)
    bare = _WITHOUT_COURT.match(text) is not None
    try:
        if bare:
            checked = str(handelsregisternummer.validate(f"{_PROBE_COURT} {text}"))
            return RegisterNumber(_upper_qualifier(checked.removeprefix(f"{_PROBE_COURT} ")), None)
        checked = str(handelsregisternummer.validate(_COURT_PREFIX.sub("", text)))
    except stdnum_errors.InvalidComponent:
        raise IdentifierError(
            Reason.UNKNOWN_COURT, "names no German register court, " + REGISTER_EXAMPLE
        ) from None
    except stdnum_errors.ValidationError:
        raise IdentifierError(
            Reason.INVALID_FORMAT, "is not a Handelsregister number, " + REGISTER_EXAMPLE
        ) from None
    match = re.search(rf"\s({_REGISTER_TYPES})\s", checked)
    assert match is not None  # the library's own output names the type
    return RegisterNumber(_upper_qualifier(checked[match.start() + 1 :]), checked[: match.start()])


def _upper_qualifier(number: str) -> str:
    """`HRB 12345 b` -> `HRB 12345 B` (the letters after a number are upper case)."""
    return re.sub(
        r"(?<=\d)(\s*)([a-zäöü]{1,3})$", lambda m: m.group(1) + m.group(2).upper(), number
    )


def register_text(value: str) -> str:
    """A Handelsregisternummer as stored when typed whole: `Stuttgart HRB 12345`."""
    found = register_number(value)
    return f"{found.court} {found.number}" if found.court else found.number


# ---- postcodes, phones, e-mails ---------------------------------------------------------------

# German postcodes (Postleitzahlen) run from 01001 (Dresden) to 99998; 00xxx is unassigned.
_FIRST_POSTCODE, _LAST_POSTCODE = 1001, 99998


def postcode(value: str, country_code: str) -> str:
    """A postcode: in Germany five digits in the assigned range; elsewhere any (bounded) text."""
    text = " ".join(value.split())
    if country_code != "DE":
        return text
    if not re.fullmatch(r"[0-9]{5}", text):
        raise IdentifierError(Reason.INVALID_FORMAT, "must be a German postcode of 5 digits")
    if not _FIRST_POSTCODE <= int(text) <= _LAST_POSTCODE:
        raise IdentifierError(
            Reason.OUT_OF_RANGE, "is no German postcode (they run from 01001 to 99998)"
        )
    return text


PHONE_REGION = "DE"  # a number without +country code is read as a German one
PHONE_EXAMPLE = "e.g. +49 711 123456-0 or 0711 123456-0"


def phone(value: str) -> str:
    """A phone number that `phonenumbers` knows as valid (its length and prefix belong to a
    number range of its country), read as German when it has no +country code. Stored as typed
    (whitespace collapsed): the display form; its E.164 form is derived from it."""
    text = " ".join(value.split())
    if len(text) > 50:
        raise IdentifierError(Reason.INVALID_LENGTH, "must be at most 50 characters")
    wrong_length = IdentifierError(
        Reason.INVALID_LENGTH, f"has too few or too many digits, {PHONE_EXAMPLE}"
    )
    try:
        number = phonenumbers.parse(text, PHONE_REGION)
    except phonenumbers.NumberParseException as error:
        if error.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise IdentifierError(
                Reason.UNSUPPORTED_COUNTRY, "has an unknown country code"
            ) from None
        if error.error_type != phonenumbers.NumberParseException.NOT_A_NUMBER:
            raise wrong_length from None
        raise IdentifierError(
            Reason.INVALID_FORMAT, f"is not a phone number, {PHONE_EXAMPLE}"
        ) from None
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible == phonenumbers.ValidationResult.INVALID_COUNTRY_CODE:
        raise IdentifierError(Reason.UNSUPPORTED_COUNTRY, "has an unknown country code")
    # A number dialable only locally (no area code) is too short to call from elsewhere.
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise wrong_length
    if not phonenumbers.is_valid_number(number):
        raise IdentifierError(
            Reason.NOT_ASSIGNED, f"is not in a number range of its country, {PHONE_EXAMPLE}"
        )
    return text


def email(value: str) -> str:
    """An e-mail address by its syntax (no DNS lookup: nothing leaves the server while a record
    is saved), stored in email-validator's normalized form: the domain lower case and in
    Unicode, the local part as typed (its case may matter to the receiving server)."""
    text = value.strip()
    if len(text) > 320:
        raise IdentifierError(Reason.INVALID_LENGTH, "must be at most 320 characters")
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise IdentifierError(
            Reason.INVALID_FORMAT,
            f"is not an e-mail address ({error}), e.g. anna.schmidt@example.de",
        ) from None
    return str(checked.normalized)


# ---- values from another system -----------------------------------------------------------------


@dataclass(frozen=True)
class Note:
    """A value from another system that failed its check and was kept (or dropped)."""

    value: str
    reason: Reason
    message: str
    kept: bool


_foreign: ContextVar[list[Note] | None] = ContextVar("foreign_identifier_notes", default=None)


@contextmanager
def foreign_values() -> Iterator[list[Note]]:
    """Check the values validated inside as coming from another system (Lexware): a failing
    identifier is kept as it came and noted in the yielded list, not refused."""
    notes: list[Note] = []
    token = _foreign.set(notes)
    try:
        yield notes
    finally:
        _foreign.reset(token)


def checked(
    check: Callable[[str], str], column_length: int, *, optional: bool = True
) -> Callable[[str], str]:
    """`check` as a validator: strict, or under `foreign_values()` keeping a failing value that
    fits its column of `column_length` characters (a longer one of an `optional` field is
    dropped, None; of a required one still refused)."""

    def run(value: str) -> str:
        try:
            return check(value)
        except IdentifierError as error:
            notes = _foreign.get()
            if notes is None:
                raise
            text = " ".join(value.split())
            kept = len(text) <= column_length
            if not (kept or optional):
                raise
            notes.append(Note(text, error.reason, error.message, kept))
            return text if kept else None  # type: ignore[return-value]  # the field stays empty

    return run
