"""Relay's global object identification: the `Node` interface of every record with a row and
a uuid of its own (its id is that uuid; `node(id:)` refetches it, resolvers/nodes/queries.py)."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLResolveInfo
from sqlalchemy.engine import Row
from strawberry.types.cast import get_strawberry_type_cast


@strawberry.interface(
    description="A record with an id of its own, the same id everywhere (events, logs, "
    "Lexware links): `node(id:)` fetches it again whatever its type, as Relay's refetch "
    "and normalized caches do."
)
class Node:
    id: strawberry.ID = strawberry.field(
        description="The record's id (a UUID), unique across all types of records."
    )

    @classmethod
    def is_type_of(cls, obj: object, _info: GraphQLResolveInfo[Any]) -> bool:
        """Whether a value is of this type. Strawberry's own check of a type with an
        interface is `isinstance`, which a row never passes: a row is of the type the field
        declares (the fast path, for every record of every answer), and a value of an
        abstract field (`node`, `search`'s union) is of the type it was cast to."""
        if type(obj) is Row:  # exactly: cheaper than isinstance of an ABC, and what reads give
            return True
        cast = get_strawberry_type_cast(obj)
        return cast is None or cast is cls
