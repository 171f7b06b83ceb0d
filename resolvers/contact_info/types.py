"""E-mail and phone types and inputs, shared by companies and contacts."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models.enums import EmailType, PhoneType
from resolvers.nodes.types import Node


@strawberry.type(description="An e-mail address of a company or contact.")
class Email(Node):
    id: strawberry.ID
    email: str
    type: EmailType
    is_primary: bool
    created_at: datetime


@strawberry.type(description="A phone number of a company or contact.")
class Phone(Node):
    id: strawberry.ID
    phone: str
    type: PhoneType
    is_primary: bool
    created_at: datetime
    e164: str | None = strawberry.field(
        description="The number in E.164 (+497111234560; a number without a country code is "
        "read as German), null when it cannot be read as a phone number."
    )


@strawberry.input(description="An e-mail address; the first one becomes primary if none is.")
class EmailInput:
    email: str
    type: EmailType = EmailType.WORK
    is_primary: bool = False


@strawberry.input(description="A phone number; the first one becomes primary if none is.")
class PhoneInput:
    phone: str
    type: PhoneType = PhoneType.OFFICE
    is_primary: bool = False
