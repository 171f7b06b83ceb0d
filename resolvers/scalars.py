"""The custom scalars as the schema documents them: strawberry's own Date, DateTime and Decimal
(their serializers and parsers unchanged), each with a description that states the exact wire
format and `@specifiedBy` the specification of that format. Generated clients map them by these
(README, "Clients and code generation"); the compiled read path serializes through the same
scalars, so both paths emit what is written here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal

from strawberry.schema.types.base_scalars import (
    DateDefinition,
    DateTimeDefinition,
    DecimalDefinition,
)
from strawberry.types.scalar import ScalarDefinition

RFC3339 = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
# Python's Decimal writes and reads the numeric strings of the General Decimal Arithmetic
# specification; our money columns (NUMERIC(14, 2)) always come out in its plain form.
DECIMAL_STRINGS = "https://speleotrove.com/decimal/daconvs.html"

DATE_TIME = dataclasses.replace(
    DateTimeDefinition,
    description=(
        "A point in time, as a JSON string in RFC 3339 `date-time` form. The server always "
        "sends it in UTC with the offset `+00:00` and microseconds when they are not zero, "
        "e.g. `2027-01-15T08:00:00+00:00` or `2027-01-15T08:00:00.535475+00:00`. Send it with "
        "an offset (`2027-01-15T09:00:00+01:00` or `...Z`); a value without one is refused."
    ),
    specified_by_url=RFC3339,
)
DATE = dataclasses.replace(
    DateDefinition,
    description=(
        "A calendar day without time or time zone (a birthday, a contract's start), as a JSON "
        "string in RFC 3339 `full-date` form `YYYY-MM-DD`, e.g. `2027-01-15`; sent and "
        "accepted so."
    ),
    specified_by_url=RFC3339,
)
DECIMAL = dataclasses.replace(
    DecimalDefinition,
    description=(
        "An exact decimal number (amounts of money), as a JSON string so no float rounding "
        "touches it. The server sends amounts in plain notation with exactly two decimals, "
        'e.g. `"1250.00"`, `"0.10"`. Accepted as such a string (or in the specification\'s '
        'exponent form, `"1.25E+3"`), or as a JSON number.'
    ),
    specified_by_url=DECIMAL_STRINGS,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {
    dt.datetime: DATE_TIME,
    dt.date: DATE,
    decimal.Decimal: DECIMAL,
}
