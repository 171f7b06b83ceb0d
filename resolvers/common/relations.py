"""Relations declared on GraphQL fields as data, so the compiled execution path can read them.

A field declared with `relation_field(spec, resolver)` resolves through its loader as usual; the
compiler (resolvers/compiled) reads the same spec from the field's metadata and fetches the whole
level in one statement of its own. One spec serves both, so they cannot disagree on the table,
the parent column or the order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic

import strawberry

from app.data.records import Entity, RowT

RELATION = "insight-crm.relation"
COUNT = "insight-crm.count"  # Connection.totalCount: the compiler calls the connection's count
ROOT = "insight-crm.root"
# Metadata of a root field whose resolver returns rows of the types declared here: the
# compiler calls that resolver and walks its result itself.
ROWS = {ROOT: True}
ROW_BY_ID = "insight-crm.row-by-id"
PAGE_OF = "insight-crm.page-of"
# Metadata of a list field without a `first` argument whose length the services bound: the
# query cost (resolvers/query_cost.py) counts it at this size instead of MAX_PAGE_SIZE.
LIST_SIZE = "insight-crm.list-size"
# Metadata of a list field with one item per item of a list argument (`nodes(ids:)`): the
# query cost counts it at that argument's length (the literal's, or the variable's in the
# request), at most its LIST_SIZE.
LIST_LENGTH_OF = "insight-crm.list-length-of"
# Field metadata: what resolving the field once adds to the query cost beyond the objects it
# returns (a duplicate check: index reads per record, resolvers/duplicates/loaders.py).
FIELD_COST = "insight-crm.field-cost"
# Metadata of a roll-up field (resolvers/common/rollups.py): the compiler reads the figure as
# a column of the statement that fetches the record (app.services.rollups.queries.Rollup).
ROLLUP = "insight-crm.rollup"
# Metadata of a link's id field (`contact.companyId`): the id of the related row the field's
# ToOne finds, null when there is none or it is in the trash (the trash hides it as it hides
# the row); the compiler selects it as a correlated subquery (resolvers.compiled.nodes).
LINK_ID = "insight-crm.link-id"


def row_by_id(entity: Entity[object]) -> dict[str, Any]:
    """Metadata of a root field `x(id: ID!)` that returns the entity's row with that id (an
    error when there is none): the compiler reads the row itself, the resolver reports errors."""
    return {ROOT: True, ROW_BY_ID: entity}


def page_of(entity: Entity[object]) -> dict[str, Any]:
    """Metadata of a root list field whose resolver pages the entity's rows with `paged_rows`:
    the compiler runs the page query itself, with the columns the operation reads."""
    return {ROOT: True, PAGE_OF: entity}


# A nested list's `orderBy` as both paths read it: the order enum's member, whether it is
# descending and, for orders that have one (a roll-up's OPEN_DEAL_VALUE), the currency; None
# when the list is asked in its own order.
ChildOrder = tuple[Any, ...] | None
ORDER_ARGUMENT = "orderBy"


@dataclass(frozen=True)
class ToMany(Generic[RowT]):
    """Children whose `parent_column` holds the parent's id, in `order_by`; `limited` lists
    take a `first` argument (at most that many per parent); an unlimited list may name the
    most children a parent can have (`at_most`, for the query cost). A list with `ordering`
    takes an `orderBy` argument (the root list's order input): `ordering(field, descending)`
    is its ORDER BY then."""

    entity: Entity[RowT]
    parent_column: str
    order_by: tuple[Any, ...]
    limited: bool = True
    at_most: int | None = None
    ordering: Callable[..., Sequence[Any]] | None = None

    def ordered(self, order: ChildOrder) -> Sequence[Any]:
        """The ORDER BY of the children asked in `order`."""
        if order is None or self.ordering is None:
            return self.order_by
        return self.ordering(*order)


def child_order(value: Any) -> ChildOrder:
    """A nested list's `orderBy` value (the input object, or graphql-core's dict of it)."""
    if value is None:
        return None
    if isinstance(value, dict):
        field, direction = value["field"], value["direction"]
        has_currency, currency = "currency" in value, value.get("currency")
    else:
        field, direction = value.field, value.direction
        has_currency, currency = hasattr(value, "currency"), getattr(value, "currency", None)
    if has_currency:  # an order input with a currency (companies, contacts)
        return field, direction.value == "DESC", currency
    return field, direction.value == "DESC"


@dataclass(frozen=True)
class ToOne(Generic[RowT]):
    """The row whose id the parent holds in `key_column` (None when the key is null)."""

    entity: Entity[RowT]
    key_column: str


Relation = ToMany[object] | ToOne[object]


def rows_field(
    resolver: Callable[..., object],
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
    deprecation_reason: str | None = None,
) -> Any:
    """A field whose resolver returns read models (rows, app/services/<domain>/rows.py) where
    the schema shows the GraphQL type the class annotation names. `strawberry.field` types
    the field as its resolver's return type, which a row is not; this one leaves the class
    annotation alone. That the rows carry every field of the GraphQL type is checked by
    tests/test_read_models.py."""
    return strawberry.field(
        resolver=resolver,
        description=description,
        metadata=metadata,
        deprecation_reason=deprecation_reason,
    )


def relation_field(
    spec: Relation, resolver: Callable[..., object], description: str | None = None
) -> Any:
    metadata: dict[str, Any] = {RELATION: spec}
    if isinstance(spec, ToMany) and spec.at_most is not None:
        metadata[LIST_SIZE] = spec.at_most
    return rows_field(resolver, description, metadata)
