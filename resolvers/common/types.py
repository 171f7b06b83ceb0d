"""Small value types shared by several entities."""

from __future__ import annotations

from typing import Any

import strawberry


@strawberry.type(description="A postal address as stored; a part not given is null.")
class Address:
    street: str | None = strawberry.field(description="Street and house number.")
    supplement: str | None = strawberry.field(
        description="Address supplement: c/o, building, floor, Postfach."
    )
    zip: str | None = strawberry.field(description="Postcode (PLZ), e.g. 70173.")
    city: str | None = strawberry.field(description="City, e.g. Stuttgart.")
    country_code: str = strawberry.field(description="ISO 3166-1 alpha-2, e.g. DE.")


@strawberry.input(
    description="A postal address; countryCode defaults to DE. Parts are trimmed, and an empty "
    "one is stored as null. The whole address is replaced when sent."
)
class AddressInput:
    street: str | None = strawberry.field(
        default=None, description="Street and house number; at most 200 characters."
    )
    supplement: str | None = strawberry.field(
        default=None,
        description="Address supplement (c/o, building, Postfach); at most 200 characters.",
    )
    zip: str | None = strawberry.field(
        default=None,
        description="Postcode; with DE, 5 digits from 01001 to 99998, elsewhere any text. At "
        "most 20 characters. A wrong one: BAD_USER_INPUT.",
    )
    city: str | None = strawberry.field(default=None, description="At most 100 characters.")
    country_code: str = strawberry.field(
        default="DE",
        description="ISO 3166-1 alpha-2 code, any case (stored upper case), e.g. DE, AT, CH.",
    )


def address_from_json(value: dict[str, Any] | None) -> Address | None:
    if not value:
        return None
    return Address(
        street=value.get("street"),
        supplement=value.get("supplement"),
        zip=value.get("zip"),
        city=value.get("city"),
        country_code=value.get("country_code", "DE"),
    )
