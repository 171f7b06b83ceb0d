"""The query cost limit: how many objects an operation's answer can hold, refused over
MAX_QUERY_COST before anything runs, and reported in every response (`extensions.cost`).

The cost of a selection is the sum over its fields of object type (scalars and enums cost 0):

    cost(field) = size(field) * (1 + cost(the field's selection))

size is 1 for a single object and the page size for a list: its `first` argument (or `last`,
a page from the list's end, counted alike), else that argument's default (a connection's
`first: null` is DEFAULT_PAGE_SIZE); a connection's page size sizes its `edges`; a list
without `first` counts the most items it can hold (e-mails and phones 20, pipeline stages 30,
lookup lists 200: `LIST_SIZE`), else MAX_PAGE_SIZE. The operation's cost is the cost of its
selection, with fragments (named and inline) expanded wherever they are spread and every field
counted as often as the document names it; @skip and @include are ignored, and introspection
fields cost 0. So the cost is the most objects (JSON
objects below `data`) the answer can contain.

`first: $n` (and `last: $n`) is costed with the request's value of $n: the work that depends
on the document only (walking it, fragments expanded) is done once per document and kept as a
formula over its page-size variables (`DocumentCosts`), which each request evaluates with its
variables (a few multiplications). Costing variables at the cap instead would refuse or
misreport every client that pages with variables.

Counting saturates at COUNT_LIMIT (2**53 - 1, the largest integer a JSON client written in
JavaScript reads exactly): every product and sum stops there, so a document of huge page sizes
(`first: 2000000000` three deep, `$n` sent as 1e300 or with thousands of digits, two dozen
nested lists) costs a few small multiplications, not big-integer arithmetic, and the cost in
`extensions.cost` is always a number every client can read. A cost that reaches it is reported
as that number, "beyond counting"; the limit (MAX_QUERY_COST) is far below it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types.field import StrawberryField

from app.internals import graphql_schema
from app.settings import Settings
from app.telemetry.describe import note_cost
from resolvers.common.relations import FIELD_COST, LIST_LENGTH_OF, LIST_SIZE
from resolvers.cost_formula import (
    COUNT_LIMIT,
    UNSET,
    EitherSize,
    Expression,
    PageSizes,
    Size,
    VariableLength,
    VariableSize,
    evaluate,
    int_literal,
    scaled,
    total,
)


class _Walk:
    """One operation's cost expression. Fields the schema does not have cost 0 (validation
    reports them); a fragment is walked once per page size it is spread with."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        operation: OperationDefinitionNode,
        sizes: PageSizes,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.sizes = sizes
        self.variable_defaults = {
            definition.variable.name.value: definition.default_value
            for definition in operation.variable_definitions or ()
        }
        self.walked: dict[tuple[str, Size | None], Expression] = {}

    def selections(
        self, selections: Iterable[SelectionNode], parent: GraphQLNamedType, page: Size | None
    ) -> Expression:
        return total(self._costs(selections, parent, page))

    def _costs(
        self, selections: Iterable[SelectionNode], parent: GraphQLNamedType, page: Size | None
    ) -> Iterator[Expression]:
        for selection in selections:
            if isinstance(selection, FieldNode):
                yield self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                if inner is not None:
                    yield self.selections(selection.selection_set.selections, inner, page)
            elif isinstance(selection, FragmentSpreadNode):
                yield self.fragment(selection.name.value, page)

    def fragment(self, name: str, page: Size | None) -> Expression:
        key = (name, page)
        if key not in self.walked:
            self.walked[key] = 0  # a cycle (refused by validation) counts nothing
            definition = self.fragments.get(name)
            condition = (
                None
                if definition is None
                else self.schema.get_type(definition.type_condition.name.value)
            )
            if definition is not None and condition is not None:
                selections = definition.selection_set.selections
                self.walked[key] = self.selections(selections, condition, page)
        return self.walked[key]

    def field(self, node: FieldNode, parent: GraphQLNamedType, page: Size | None) -> Expression:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        field = parent.fields.get(node.name.value)  # introspection fields are not among them
        if field is None or is_leaf_type(get_named_type(field.type)):
            return 0
        first = self.first(node, field)
        if isinstance(get_nullable_type(field.type), GraphQLList):
            size = first if first is not None else page if page is not None else None
            size = self.length(field, node) if size is None else size
            inner_page = None
        else:
            size, inner_page = 1, first  # a connection: its page size sizes its `edges`
        selections = node.selection_set.selections if node.selection_set else ()
        cost = scaled(size, self.selections(selections, get_named_type(field.type), inner_page))
        return total((cost, self.surcharge(field)))

    def first(self, node: FieldNode, field: GraphQLField) -> Size | None:
        """The page size the field's `first` (or `last`) argument asks for; None if it has
        neither. `last` counts as `first` does: a page from the list's end."""
        argument = field.args.get("first")
        if argument is None:
            return None
        default = argument.default_value
        fallback = default if _is_int(default) else self.sizes.default
        last = self._given(node, "last", UNSET) if "last" in field.args else UNSET
        if last == UNSET:
            return self._given(node, "first", fallback)
        first = self._given(node, "first", UNSET)
        if first == UNSET and isinstance(last, int):
            return last
        return EitherSize(first, last, fallback)

    def _given(self, node: FieldNode, name: str, fallback: int) -> int | VariableSize:
        """The size argument `name` asks for, `fallback` when it is not sent or null."""
        sent = next((a.value for a in node.arguments or () if a.name.value == name), None)
        if sent is None or isinstance(sent, NullValueNode):
            return fallback
        if isinstance(sent, VariableNode):
            variable = sent.name.value
            absent = self._literal(self.variable_defaults.get(variable), fallback)
            return VariableSize(variable, absent, fallback, self.sizes.cap)
        return self._literal(sent, fallback)

    def _literal(self, value: ValueNode | None, fallback: int) -> int:
        if value is None or isinstance(value, NullValueNode):
            return fallback
        if isinstance(value, IntValueNode):
            return int_literal(value.value)
        return self.sizes.cap  # not an integer: validation refuses it

    def surcharge(self, field: GraphQLField) -> int:
        """What resolving the field once costs beyond its objects (its FIELD_COST)."""
        definition = (field.extensions or {}).get("strawberry-definition")
        if isinstance(definition, StrawberryField):
            declared = definition.metadata.get(FIELD_COST)
            if _is_int(declared):
                return declared
        return 0

    def length(self, field: GraphQLField, node: FieldNode) -> Size:
        """The most items of a list without `first`: its declared bound, else the cap; for
        a list with an item per item of a list argument (LIST_LENGTH_OF: `nodes(ids:)`),
        that argument's length, at most the bound."""
        definition = (field.extensions or {}).get("strawberry-definition")
        bound = self.sizes.cap
        if isinstance(definition, StrawberryField):
            declared = definition.metadata.get(LIST_SIZE)
            bound = declared if _is_int(declared) else bound
            argument = definition.metadata.get(LIST_LENGTH_OF)
            if isinstance(argument, str):
                return self._length_of(node, argument, bound)
        return bound

    def _length_of(self, node: FieldNode, argument: str, bound: int) -> Size:
        sent = next((a.value for a in node.arguments or () if a.name.value == argument), None)
        if isinstance(sent, VariableNode):
            default = self.variable_defaults.get(sent.name.value)
            absent = self._literal_length(default, bound)
            return VariableLength(sent.name.value, absent, bound)
        return self._literal_length(sent, bound)

    def _literal_length(self, sent: ValueNode | None, bound: int) -> int:
        if isinstance(sent, ListValueNode):
            return min(len(sent.values), bound)
        return bound if sent is None or isinstance(sent, NullValueNode) else 1


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class DocumentCosts:
    """The cost expressions of a document's operations, by operation name."""

    named: Mapping[str, Expression]
    single: Expression | None  # the document's only operation

    def of(self, operation_name: str | None) -> Expression | None:
        return self.single if operation_name is None else self.named.get(operation_name)


def document_costs(
    schema: GraphQLSchema, document: DocumentNode, sizes: PageSizes
) -> DocumentCosts:
    definitions = document.definitions
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    costs: list[tuple[str | None, Expression]] = []
    for operation in definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        root = schema.get_root_type(operation.operation)
        walk = _Walk(schema, fragments, operation, sizes)
        selections = operation.selection_set.selections
        expression = 0 if root is None else walk.selections(selections, root, None)
        costs.append((operation.name.value if operation.name else None, expression))
    named = {name: expression for name, expression in costs if name is not None}
    return DocumentCosts(named, costs[0][1] if len(costs) == 1 else None)


class QueryCosts:
    """The cost limit of one schema and its documents' cost expressions (an LRU by query text,
    so a document is walked once while it is in use)."""

    def __init__(self, settings: Settings) -> None:
        self.limit = settings.max_query_cost
        self.sizes = PageSizes(settings.default_page_size, settings.max_page_size)
        self.cache_size = settings.document_cache_size
        self._documents: OrderedDict[str, DocumentCosts] = OrderedDict()

    def of(self, schema: GraphQLSchema, document: DocumentNode, query: str) -> DocumentCosts:
        found = self.cached(query)
        if found is None:
            found = self._documents[query] = document_costs(schema, document, self.sizes)
            while len(self._documents) > self.cache_size:
                self._documents.popitem(last=False)  # the least recently used
        return found

    def cached(self, query: str) -> DocumentCosts | None:
        found = self._documents.get(query)
        if found is not None:
            self._documents.move_to_end(query)
        return found

    def admitted_cost(
        self, query: str, operation_name: str | None, variables: Mapping[str, Any] | None
    ) -> int | None:
        """The cost of a document the compiled path answers without strawberry's view, if it
        is known and within the limit; None: the full way answers (and refuses) it."""
        document = self.cached(query)
        expression = None if document is None else document.of(operation_name)
        if expression is None:
            return None
        cost = evaluate(expression, variables)
        return cost if cost <= self.limit else None

    def refusal(self, cost: int) -> GraphQLError:
        counted = f"beyond counting (at least {cost})" if cost >= COUNT_LIMIT else f"{cost}"
        return GraphQLError(
            f"The operation's cost is {counted}, over the limit of {self.limit}: ask for fewer "
            "items per list (`first`) or fewer nested lists.",
            extensions={"code": "BAD_USER_INPUT", "cost": cost, "maxCost": self.limit},
        )


class QueryCostLimit(SchemaExtension):
    """Costs each operation during validation (after the validation cache, whose errors come
    first) and refuses it over the limit, so nothing runs; every result reports the cost."""

    def __init__(self, *, costs: QueryCosts) -> None:
        self.costs = costs
        self.cost: int | None = None

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document, query = context.graphql_document, context.query
        if document is not None and query is not None:
            schema = graphql_schema(context.schema)
            expression = self.costs.of(schema, document, query).of(context.operation_name)
            if expression is not None:
                self.cost = evaluate(expression, context.variables)
                note_cost(self.cost)  # the request's access line and metrics
                if context.pre_execution_errors is None:  # no validation cache ran before
                    context.pre_execution_errors = validate_document(
                        schema, document, context.validation_rules
                    )
                if not context.pre_execution_errors and self.cost > self.costs.limit:
                    context.pre_execution_errors = [self.costs.refusal(self.cost)]
        yield

    def get_results(self) -> dict[str, Any]:
        return {} if self.cost is None else {"cost": self.cost}
