"""Lookup list types."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.nodes.types import Node


@strawberry.type(description="An industry (Branche), admin-configurable, with a display colour.")
class Industry(Node):
    id: strawberry.ID
    name: str
    color: str | None = strawberry.field(description="#RRGGBB")
    created_at: datetime
    updated_at: datetime


@strawberry.type(description="An account type (Kontotyp) such as customer, prospect, partner.")
class AccountType(Node):
    id: strawberry.ID
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime


@strawberry.type(description="A kind of company-to-company relationship.")
class RelationshipType(Node):
    id: strawberry.ID
    name: str
    inverse_name: str | None = strawberry.field(
        description="How the relationship reads from the other company's side."
    )
    created_at: datetime
    updated_at: datetime
