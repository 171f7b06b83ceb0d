"""Input validation shared by the services: pydantic models whose errors become BAD_USER_INPUT.

Field paths in errors use the GraphQL names (camelCase), so a frontend can put each message
next to its form field.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic import create_model as _create_model
from pydantic.alias_generators import to_camel

from app.errors import BadUserInput, FieldProblem
from models.tags import tag_key

ModelT = TypeVar("ModelT", bound=BaseModel)


class Input(BaseModel):
    """Base of every service input: unknown fields refused, strings trimmed, and no NUL
    characters (PostgreSQL text cannot hold them)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for name, value in data.items():
                if _has_nul(value):
                    raise ValueError(f"{to_camel(str(name))} must not contain NUL characters")
        return data


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


def _path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        else:
            parts.append(to_camel(item))
    return ".".join(parts) or "input"


def _message(error: Mapping[str, Any]) -> str:
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def validate(model: type[ModelT], data: Mapping[str, Any]) -> ModelT:
    try:
        return model.model_validate(dict(data))
    except ValidationError as error:
        problems = [FieldProblem(_path(e["loc"]), _message(e)) for e in error.errors()]
        raise BadUserInput(problems) from None


def patch_model(model: type[Input]) -> tuple[type[Input], frozenset[str]]:
    """The partial-update twin of a create model, and the fields that may not be cleared.

    Every field becomes optional; a field that has no `None` default in the create model is
    not nullable, so sending `null` for it is an error rather than a silent no-op.
    """
    fields: dict[str, Any] = {}
    required: set[str] = set()
    for name, info in model.model_fields.items():
        if info.is_required() or info.default is not None:
            required.add(name)
        fields[name] = (info.rebuild_annotation() | None, None)
    patch = _create_model(f"{model.__name__}Patch", __base__=Input, **fields)
    return patch, frozenset(required)


def validate_patch(
    model: type[Input], not_nullable: frozenset[str], data: Mapping[str, Any]
) -> dict[str, Any]:
    """Validated values of the fields that were sent (and only those)."""
    parsed = validate(model, data)
    cleared = sorted(name for name in parsed.model_fields_set & not_nullable if data[name] is None)
    if cleared:
        raise BadUserInput([FieldProblem(to_camel(n), "cannot be null") for n in cleared])
    return {name: getattr(parsed, name) for name in parsed.model_fields_set}


# ---- common field types -------------------------------------------------------------------


def _empty_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _bounded(max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, max_length=max_length)


# Optional free text: trimmed, empty becomes None, bounded.
_Blank = BeforeValidator(_empty_to_none)
Text20 = Annotated[Annotated[str, _bounded(20)] | None, _Blank]
Text30 = Annotated[Annotated[str, _bounded(30)] | None, _Blank]
Text50 = Annotated[Annotated[str, _bounded(50)] | None, _Blank]
Text100 = Annotated[Annotated[str, _bounded(100)] | None, _Blank]
Text200 = Annotated[Annotated[str, _bounded(200)] | None, _Blank]
Text500 = Annotated[Annotated[str, _bounded(500)] | None, _Blank]
LongText = Annotated[Annotated[str, _bounded(20_000)] | None, _Blank]

# Required names: trimmed, not empty, bounded.
Name100 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Name200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


_HOST = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)


def _check_website(value: str) -> str:
    candidate = value if "://" in value else f"https://{value}"
    parts = urlsplit(candidate)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not _HOST.match(parts.hostname)
    ):
        raise ValueError("must be a web address such as https://www.example.de")
    if len(candidate) > 500:
        raise ValueError("must be at most 500 characters")
    return candidate


Website = Annotated[str, AfterValidator(_check_website)]

_VAT_RULES = {
    "DE": r"DE\d{9}",
    "AT": r"ATU\d{8}",
    "CH": r"CHE\d{9}(MWST|TVA|IVA)?",
    "NL": r"NL\d{9}B\d{2}",
    "BE": r"BE[01]\d{9}",
    "FR": r"FR[0-9A-Z]{2}\d{9}",
    "IT": r"IT\d{11}",
    "ES": r"ES[0-9A-Z]\d{7}[0-9A-Z]",
    "PL": r"PL\d{10}",
    "NO": r"NO\d{9}(MVA)?",
    "GB": r"GB(\d{9}|\d{12}|GD\d{3}|HA\d{3})",
    "DK": r"DK\d{8}",
    "LU": r"LU\d{8}",
    "CZ": r"CZ\d{8,10}",
}
# Other EU states: the country prefix and 2-13 characters, mostly digits.
_VAT_GENERIC = re.compile(
    r"^(BG|CY|EE|EL|FI|HR|HU|IE|LT|LV|MT|PT|RO|SE|SI|SK|XI)(?=(?:\D*\d){2})[0-9A-Z+*]{2,13}$"
)


def _check_vat_id(value: str) -> str:
    normalized = re.sub(r"[\s.\-]", "", value).upper()
    rule = _VAT_RULES.get(normalized[:2])
    if not (re.fullmatch(rule, normalized) if rule else _VAT_GENERIC.match(normalized)):
        raise ValueError(
            "must be a VAT identification number with country prefix, e.g. DE123456789"
        )
    return normalized


VatId = Annotated[str, AfterValidator(_check_vat_id)]


def _check_tags(values: list[str]) -> list[str]:
    """Trimmed and bounded; `ERP` and `erp` are one tag: the first spelling stays."""
    cleaned: dict[str, str] = {}
    for value in values:
        tag = value.strip()
        if not tag or len(tag) > 50:
            raise ValueError("each tag must be 1 to 50 characters")
        cleaned.setdefault(tag_key(tag), tag)
    if len(cleaned) > 50:
        raise ValueError("at most 50 tags")
    return list(cleaned.values())


Tags = Annotated[list[str], AfterValidator(_check_tags)]


def _check_moment(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a time zone offset, e.g. 2027-01-15T09:00:00+01:00")
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the years 1 to 9999") from None
    return value


# A point in time: with an offset, and storable (in UTC) as timestamptz.
Moment = Annotated[datetime, AfterValidator(_check_moment)]


def check_filter(values: Any) -> None:
    """Filter values reach SQL as parameters: refuse what PostgreSQL cannot take (NUL
    characters, instants outside its range) with the field named, before any query runs."""
    problems: list[FieldProblem] = []
    for item in dataclasses.fields(values):
        value = getattr(values, item.name)
        if _has_nul(value):
            problems.append(FieldProblem(_filter_field(item), "must not contain NUL characters"))
        elif isinstance(value, datetime):
            try:
                _check_moment(value)
            except ValueError as error:
                problems.append(FieldProblem(_filter_field(item), str(error)))
    if problems:
        raise BadUserInput(problems)


def _filter_field(item: dataclasses.Field[Any]) -> str:
    return f"filter.{to_camel(item.name)}"  # named only for a problem: a regex per field


def _check_country(value: str) -> str:
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise ValueError("must be an ISO 3166-1 alpha-2 country code such as DE")
    return code


CountryCode = Annotated[str, AfterValidator(_check_country)]


class Address(Input):
    street: Text200 = None
    supplement: Text200 = None
    zip: Text20 = None
    city: Text100 = None
    country_code: CountryCode = "DE"
