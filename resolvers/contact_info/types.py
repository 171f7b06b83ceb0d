"""E-mail and phone types and inputs, shared by companies and contacts."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models.enums import EmailType, PhoneType
from resolvers.nodes.types import Node


@strawberry.type(description="An e-mail address of a company or contact.")
class Email(Node):
    id: strawberry.ID = strawberry.field(
        description="The address's id (a UUID): what setPrimaryEmail and removeEmail take."
    )
    email: str = strawberry.field(
        description="The address as stored: domain lower case (Unicode), local part as typed, "
        "e.g. Anna.Schmidt@mueller-maschinenbau.de."
    )
    type: EmailType = strawberry.field(description="What kind of address it is.")
    is_primary: bool = strawberry.field(
        description="The one to use by default; exactly one address of a record with any is "
        "primary."
    )
    created_at: datetime = strawberry.field(description="When the address was added.")


@strawberry.type(description="A phone number of a company or contact.")
class Phone(Node):
    id: strawberry.ID = strawberry.field(
        description="The number's id (a UUID): what setPrimaryPhone and removePhone take."
    )
    phone: str = strawberry.field(
        description="The number as typed (whitespace collapsed), e.g. 0711 123456-0: the "
        "display form."
    )
    type: PhoneType = strawberry.field(description="What kind of number it is.")
    is_primary: bool = strawberry.field(
        description="The one to use by default; exactly one number of a record with any is primary."
    )
    created_at: datetime = strawberry.field(description="When the number was added.")
    e164: str | None = strawberry.field(
        description="The number in E.164 (+497111234560; a number without a country code is "
        "read as German), null when it cannot be read as a phone number."
    )


@strawberry.input(description="An e-mail address; the first one becomes primary if none is.")
class EmailInput:
    email: str = strawberry.field(
        description="An e-mail address, at most 320 characters, checked by its syntax only (no "
        "lookup); a wrong one, or the same one twice in a list: BAD_USER_INPUT; adding one the "
        "record has already: CONFLICT."
    )
    type: EmailType = strawberry.field(default=EmailType.WORK, description="WORK when not sent.")
    is_primary: bool = strawberry.field(
        default=False, description="true: this becomes the primary address (the former one not)."
    )


@strawberry.input(description="A phone number; the first one becomes primary if none is.")
class PhoneInput:
    phone: str = strawberry.field(
        description="A phone number in any common format, e.g. +49 711 123456-0 or 0711 "
        "123456-0 (without a country code it is read as German); at most 50 characters, it "
        "must be a valid number of its country. Otherwise BAD_USER_INPUT."
    )
    type: PhoneType = strawberry.field(
        default=PhoneType.OFFICE, description="OFFICE when not sent."
    )
    is_primary: bool = strawberry.field(
        default=False, description="true: this becomes the primary number (the former one not)."
    )
