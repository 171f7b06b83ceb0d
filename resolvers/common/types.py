"""Small value types shared by several entities."""

from __future__ import annotations

from typing import Any

import strawberry


@strawberry.type(description="A postal address.")
class Address:
    street: str | None
    supplement: str | None
    zip: str | None
    city: str | None
    country_code: str = strawberry.field(description="ISO 3166-1 alpha-2, e.g. DE.")


@strawberry.input(description="A postal address; countryCode defaults to DE.")
class AddressInput:
    street: str | None = None
    supplement: str | None = None
    zip: str | None = None
    city: str | None = None
    country_code: str = "DE"


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
