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
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic import create_model as _create_model
from pydantic.alias_generators import to_camel

from app.errors import BadUserInput, FieldProblem
from app.services.common import identifiers
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
    # Based on the model itself so that its model validators check a patch too.
    patch = _create_model(f"{model.__name__}Patch", __base__=model, **fields)
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

# Identifiers (app.services.common.identifiers): checked by python-stdnum, stored normalized;
# under identifiers.foreign_values() (a Lexware import or sync) a failing one is kept and noted.
VatId = Annotated[str, AfterValidator(identifiers.checked(identifiers.vat_id, 20))]
TaxNumber = Annotated[
    Annotated[str, _bounded(30), AfterValidator(identifiers.checked(identifiers.tax_number, 30))]
    | None,
    _Blank,
]
RegisterCourt = Annotated[
    Annotated[
        str, _bounded(100), AfterValidator(identifiers.checked(identifiers.register_court, 100))
    ]
    | None,
    _Blank,
]
# The number alone (`HRB 12345`); a court typed with it is moved to registerCourt by
# CompanyInput (app.services.companies.rules), which compares the two.
TradeRegisterNumber = Annotated[
    Annotated[str, _bounded(50), AfterValidator(identifiers.checked(identifiers.register_text, 50))]
    | None,
    _Blank,
]


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


def court_apart(model: ModelT) -> ModelT:
    """A model with a `trade_register_number` typed with its court (`Stuttgart HRB 12345`):
    the number alone, the court in `register_court` (the same court when that was sent)."""
    text = getattr(model, "trade_register_number", None)
    try:
        found = identifiers.register_number(text) if text else None
    except identifiers.IdentifierError:  # a foreign value kept as it came (foreign_values)
        return model
    if found is None or found.court is None:
        return model
    court = getattr(model, "register_court", None)
    if "register_court" in model.model_fields_set and court not in (None, found.court):
        problem = f"names the court {found.court}, registerCourt says {court}"
        raise BadUserInput.single("tradeRegisterNumber", problem)
    update = {"trade_register_number": found.number, "register_court": found.court}
    return model.model_copy(update=update)


class Address(Input):
    # The country first: the postcode's check depends on it (fields validate in this order).
    country_code: CountryCode = "DE"
    street: Text200 = None
    supplement: Text200 = None
    zip: Text20 = None
    city: Text100 = None

    @field_validator("zip")
    @classmethod
    def _postcode(cls, value: str | None, info: ValidationInfo) -> str | None:
        country = info.data.get("country_code")
        if value is None or country is None:  # no country: its own error is reported
            return value
        return identifiers.checked(lambda text: identifiers.postcode(text, country), 20)(value)
