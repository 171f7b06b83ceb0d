"""Lookup list types."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.common import shared_descriptions as texts
from resolvers.nodes.types import Node


@strawberry.type(
    description="An industry (Branche) a company can be in, with a display colour. A list the "
    "admin keeps (at most 200 entries); every role reads it."
)
class Industry(Node):
    id: strawberry.ID = strawberry.field(description=texts.ID)
    name: str = strawberry.field(
        description="Its name as shown in pickers, unique in the tenant ignoring case; 1-100 "
        "characters."
    )
    color: str | None = strawberry.field(
        description="Display colour as #RRGGBB, upper case, e.g. #2F6FDE; null: none."
    )
    created_at: datetime = strawberry.field(description=texts.CREATED_AT)
    updated_at: datetime = strawberry.field(description=texts.UPDATED_AT)


@strawberry.type(
    description="An account type (Kontotyp) such as customer, prospect, partner. A list the "
    "admin keeps (at most 200 entries); every role reads it."
)
class AccountType(Node):
    id: strawberry.ID = strawberry.field(description=texts.ID)
    name: str = strawberry.field(
        description="Its name as shown in pickers, unique in the tenant ignoring case; 1-100 "
        "characters."
    )
    description: str | None = strawberry.field(
        description="What the type means for the team, up to 500 characters; null: none."
    )
    created_at: datetime = strawberry.field(description=texts.CREATED_AT)
    updated_at: datetime = strawberry.field(description=texts.UPDATED_AT)


@strawberry.type(
    description="A kind of company-to-company relationship, e.g. `is supplier of` / `buys "
    "from`. A list the admin keeps (at most 200 entries); every role reads it."
)
class RelationshipType(Node):
    id: strawberry.ID = strawberry.field(description=texts.ID)
    name: str = strawberry.field(
        description="How the relationship reads from its source company, e.g. is supplier of; "
        "unique in the tenant ignoring case; 1-100 characters."
    )
    inverse_name: str | None = strawberry.field(
        description="How the relationship reads from the target company's side, e.g. buys "
        "from; up to 100 characters; null: none."
    )
    created_at: datetime = strawberry.field(description=texts.CREATED_AT)
    updated_at: datetime = strawberry.field(description=texts.UPDATED_AT)
