"""What an operation costs against the rate limits (app/rate_limiter.py), in units.

    units = the kind's units + cost // RATE_LIMIT_OBJECTS_PER_UNIT

The kind's units: RATE_LIMIT_QUERY_UNITS for a query or a subscription (its start; its events
are not charged), RATE_LIMIT_MUTATION_UNITS for each root field of a mutation (each is a write
of its own: thirty aliased creates cost thirty times one), RATE_LIMIT_LEXWARE_UNITS for each
root field declared by the Lexware mutations (resolvers/lexware/: they call Lexware Office,
whose own limit is two requests a second per key). The cost is the cost rule's
(resolvers/query_cost.py: the most objects the answer can hold, with the request's variables),
so a page of 200 companies with their nested lists costs hundreds of units where `me` costs
one. With the defaults: `me` 1, the bench's company page at first 10 13, at 50 61, at 200 244.
An operation over MAX_QUERY_COST is refused by the cost rule before it runs: its kind's units.

Everything is known before the operation runs (the document and its variables), so the
transports charge it first. A document is analysed once while it is in use (an LRU by query
text, sharing the cost rule's cache of cost expressions); a document that does not parse, or
names no operation, costs a query's units: its error is reported by the executor, and a flood
of them still counts.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    parse,
)
from strawberry.types.field import StrawberryField

from app.settings import Settings
from resolvers.cost_formula import Expression, evaluate
from resolvers.query_cost import QueryCosts

LEXWARE_RESOLVERS = "resolvers.lexware"


@dataclass(frozen=True)
class UnitWeights:
    query: int
    mutation: int
    lexware: int
    objects_per_unit: int

    @classmethod
    def of(cls, settings: Settings) -> UnitWeights:
        return cls(
            settings.rate_limit_query_units,
            settings.rate_limit_mutation_units,
            settings.rate_limit_lexware_units,
            settings.rate_limit_objects_per_unit,
        )


@dataclass(frozen=True)
class OperationShape:
    """One operation of a document: its fixed units and its cost expression."""

    fixed: int
    cost: Expression | None


class OperationUnits:
    def __init__(self, schema: GraphQLSchema, costs: QueryCosts, settings: Settings) -> None:
        self.schema = schema
        self.costs = costs
        self.weights = UnitWeights.of(settings)
        self.max_tokens = settings.max_tokens
        self.cache_size = settings.document_cache_size
        self.lexware = lexware_mutations(schema)
        self._documents: OrderedDict[str, dict[str | None, OperationShape]] = OrderedDict()

    def of(self, query: object, operation_name: object, variables: Mapping[str, Any] | None) -> int:
        """The units of the operation a request names (any JSON the client sent)."""
        if not isinstance(query, str) or not isinstance(operation_name, str | None):
            return self.weights.query
        shape = self._shapes(query).get(operation_name)
        if shape is None:
            return self.weights.query
        cost = 0 if shape.cost is None else evaluate(shape.cost, variables)
        if cost > self.costs.limit:  # refused by the cost rule before anything runs
            return shape.fixed
        return shape.fixed + cost // self.weights.objects_per_unit

    def _shapes(self, query: str) -> dict[str | None, OperationShape]:
        found = self._documents.get(query)
        if found is not None:
            self._documents.move_to_end(query)
            return found
        found = self._documents[query] = self._analyse(query)
        while len(self._documents) > self.cache_size:
            self._documents.popitem(last=False)
        return found

    def _analyse(self, query: str) -> dict[str | None, OperationShape]:
        """Each operation's shape by name (and the only one's under None)."""
        try:
            document = parse(query, max_tokens=self.max_tokens)
        except GraphQLError:
            return {}
        costs = self.costs.of(self.schema, document, query)
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        shapes: dict[str | None, OperationShape] = {}
        for operation in operations:
            name = operation.name.value if operation.name else None
            shape = OperationShape(self._fixed(operation, fragments), costs.of(name))
            if name is not None:
                shapes[name] = shape
            if len(operations) == 1:
                shapes[None] = shape
        return shapes

    def _fixed(
        self, operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
    ) -> int:
        if operation.operation is not OperationType.MUTATION:
            return self.weights.query
        mutation = self.schema.mutation_type
        names = root_fields(operation.selection_set.selections, fragments)
        known = [name for name in names if mutation is not None and name in mutation.fields]
        lexware = sum(name in self.lexware for name in known)
        return max(
            self.weights.query,
            lexware * self.weights.lexware + (len(known) - lexware) * self.weights.mutation,
        )


def root_fields(
    selections: Iterable[SelectionNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
) -> list[str]:
    """The root fields an operation selects (each as often as it is named), fragments
    expanded; a fragment cycle (refused by validation) ends the walk."""
    names: list[str] = []
    for selection in selections:
        if isinstance(selection, FieldNode):
            names.append(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names += root_fields(selection.selection_set.selections, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                inner = fragment.selection_set.selections
                names += root_fields(inner, fragments, seen | {name})
    return names


def lexware_mutations(schema: GraphQLSchema) -> frozenset[str]:
    """The mutation fields declared by the Lexware resolvers."""
    mutation = schema.mutation_type
    if mutation is None:
        return frozenset()
    return frozenset(
        name
        for name, field in mutation.fields.items()
        if _declared_in(field.extensions.get("strawberry-definition"), LEXWARE_RESOLVERS)
    )


def _declared_in(definition: object, package: str) -> bool:
    if not isinstance(definition, StrawberryField):
        return False
    module = getattr(definition.origin, "__module__", "")
    return isinstance(module, str) and module.startswith(package + ".")
