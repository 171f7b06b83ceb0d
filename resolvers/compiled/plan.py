"""Compiling a validated query into a plan: what to read, and where each value goes.

The plan mirrors the response shape. Plain attributes become `Leaf`s (a getter and the
scalar's own serializer), declared relations (resolvers.common.relations) become `Link`s with
one SQL statement each, compiled here once per document (a to-one relation of rows the plan
fetches itself is `Joined` into the statement that fetches them instead), and everything the
compiler does not know raises `NotCompilable`: such an operation runs through the normal
executor, unchanged.
"""

from __future__ import annotations

import operator
from dataclasses import replace
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from strawberry.permission import PermissionExtension
from strawberry.types.field import StrawberryField

from app.data.records import Entity
from app.services.rollups.queries import Rollup
from resolvers.common.nested import NESTED_PAGE, NestedList
from resolvers.common.relations import (
    COUNT,
    LINK_ID,
    PAGE_OF,
    RELATION,
    ROLLUP,
    ROOT,
    ROW_BY_ID,
    Relation,
    ToMany,
    ToOne,
)
from resolvers.compiled.nodes import (
    Child,
    Columns,
    Count,
    Joined,
    Leaf,
    Link,
    LinkedId,
    PagedLink,
    PageRoot,
    Plan,
    Root,
    Selection,
    Typename,
)
from resolvers.compiled.reading import (
    output_serializer,
    reader,
    relation_statement,
    scalar_reading,
    selected,
)
from resolvers.compiled.sql import NotCompilable


def strawberry_field_of(definition: GraphQLField) -> StrawberryField:
    found = (definition.extensions or {}).get("strawberry-definition")
    if not isinstance(found, StrawberryField):
        raise NotCompilable("not a strawberry field")
    return found


def unwrap(type_: GraphQLOutputType) -> tuple[Any, bool, bool]:
    """The named type, whether the field is a list, and whether it may be null."""
    nullable = not isinstance(type_, GraphQLNonNull)
    inner: Any = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    many = isinstance(inner, GraphQLList)
    if many:
        inner = inner.of_type
        inner = inner.of_type if isinstance(inner, GraphQLNonNull) else inner
        if isinstance(inner, GraphQLList):
            raise NotCompilable("nested lists")
    return inner, many, nullable


def _then(read: Any, convert: Any) -> Any:
    return lambda value: convert(read(value))


def compile_plan(
    schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: dict[str, Any]
) -> Plan:
    if operation.operation is not OperationType.QUERY or schema.query_type is None:
        raise NotCompilable("not a query")
    compiler = _Compiler(schema, fragments)
    roots = []
    for key, nodes in compiler.collect(schema.query_type, [operation.selection_set]).items():
        roots.append(compiler.root(key, nodes))
    return Plan(operation, tuple(roots), compiler.statements > 0)


class _Compiler:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]):
        self.schema = schema
        self.fragments = fragments
        self.statements = 0
        # While a list root or a nested connection compiles: its entity, the Edge.node
        # selections met, and whether their statement can take joined rows (a nested page's,
        # built here; not a list root's, which its resolver builds)
        self.page_entity: Entity[object] | None = None
        self.page_nodes: list[Selection] = []
        self.page_joinable = False

    def collect(
        self, type_: GraphQLObjectType, sets: list[SelectionSetNode | None]
    ) -> dict[str, list[FieldNode]]:
        """Fields by response key, in the order the executor would answer them."""
        found: dict[str, list[FieldNode]] = {}
        for selection_set in sets:
            if selection_set is not None:
                self._collect_into(type_, selection_set, found)
        return found

    def _collect_into(
        self, type_: GraphQLObjectType, selections: SelectionSetNode, found: dict[str, Any]
    ) -> None:
        for selection in selections.selections:
            if selection.directives:
                raise NotCompilable("directives")  # @skip/@include depend on variables
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                found.setdefault(key, []).append(selection)
                continue
            condition: NamedTypeNode | None
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                condition, inner = fragment.type_condition, fragment.selection_set
            elif isinstance(selection, InlineFragmentNode):
                condition, inner = selection.type_condition, selection.selection_set
            else:  # pragma: no cover - graphql-core has no other selection kinds
                raise NotCompilable("selection kind")
            if condition is not None and condition.name.value != type_.name:
                raise NotCompilable("fragment on another type")
            self._collect_into(type_, inner, found)

    def root(self, key: str, nodes: list[FieldNode]) -> Root:
        assert self.schema.query_type is not None
        name = nodes[0].name.value
        definition = self.schema.query_type.fields.get(name)
        if definition is None:
            raise NotCompilable(name)  # introspection (__schema, __type) and __typename
        strawberry_field = strawberry_field_of(definition)
        if not strawberry_field.metadata.get(ROOT):
            raise NotCompilable(name)
        if any(not isinstance(e, PermissionExtension) for e in strawberry_field.extensions):
            raise NotCompilable(name)
        named, many, nullable = unwrap(definition.type)
        root = Root(key, definition, strawberry_field, nodes[0], Selection(), many, nullable)
        page_entity = strawberry_field.metadata.get(PAGE_OF)
        if page_entity is not None:
            return self.page_root(root, named, nodes, page_entity)
        entity = strawberry_field.metadata.get(ROW_BY_ID)
        if entity is None:
            return replace(root, selection=self.selection(named, nodes, fetched=None))
        selection = self.selection(named, nodes, fetched=entity)
        selection.column("id")
        self.statements += 1
        lookup = relation_statement(ToOne(entity, "id"), selection.columns)
        return replace(root, selection=selection, lookup=lookup)

    def page_root(
        self, root: Root, named: Any, nodes: list[FieldNode], entity: Entity[object]
    ) -> Root:
        """A Connection whose `edges.node` objects are rows the plan fetches itself."""
        self.page_entity, self.page_nodes = entity, []
        try:
            selection = self.selection(named, nodes, fetched=None)
            found = self.page_nodes
        finally:
            self.page_entity = None
        if len(found) > 1:
            raise NotCompilable("several node selections")
        node = found[0] if found else Selection()
        id_at = node.column("id")
        self.statements += 1
        columns = tuple(selected(entity.model, name) for _, name in node.columns.names)
        page = PageRoot(columns, id_at)
        return replace(root, selection=selection, page=page)

    def selection(
        self,
        type_: Any,
        nodes: list[FieldNode],
        fetched: Entity[object] | None,
        into: Selection | None = None,
    ) -> Selection:
        """The fields asked of `type_`; `fetched` is the entity when values are rows this
        plan fetches itself (read by position, typed by the column), None for objects.
        `into`: where the rows come from, if not from a statement of their own."""
        if not isinstance(type_, GraphQLObjectType):
            raise NotCompilable("abstract or leaf type with a selection")
        selection = Selection() if into is None else into
        subfields = self.collect(type_, [n.selection_set for n in nodes])
        for key, field_nodes in subfields.items():
            selection.fields.append(self.field(type_, key, field_nodes, selection, fetched))
        return selection.seal()

    def field(
        self,
        type_: GraphQLObjectType,
        key: str,
        nodes: list[FieldNode],
        parent: Selection,
        fetched: Entity[object] | None,
    ) -> Leaf | Typename | Child | Count | Link | PagedLink | Joined:
        name = nodes[0].name.value
        if name == "__typename":
            return Typename(key, type_.name)
        definition = type_.fields[name]
        strawberry_field = strawberry_field_of(definition)
        if strawberry_field.extensions:
            raise NotCompilable(f"{type_.name}.{name} has extensions")
        named, many, nullable = unwrap(definition.type)
        python_name = strawberry_field.python_name
        declared = self.declared(key, strawberry_field, definition, nodes, parent, fetched)
        if declared is not None:
            return declared
        if strawberry_field.metadata.get(COUNT) and fetched is None:
            return Count(key, operator.attrgetter("count_items"))
        if strawberry_field.base_resolver is not None:
            raise NotCompilable(f"{type_.name}.{name} has a resolver")
        if hasattr(named, "serialize"):
            read, serialize = scalar_reading(parent, fetched, python_name, named)
            return Leaf(key, read, serialize, many, nullable)
        if fetched is not None:
            raise NotCompilable(f"{type_.name}.{name}: an object inside a fetched row")
        if self.page_entity is not None and name == "node":  # Edge.node of a list
            page_rows = Selection(columns=Columns(joinable=self.page_joinable))
            child = self.selection(named, nodes, self.page_entity, into=page_rows)
            self.page_nodes.append(child)
        else:
            child = self.selection(named, nodes, fetched=None)
        return Child(key, operator.attrgetter(python_name), child, many, nullable)

    def declared(
        self,
        key: str,
        strawberry_field: StrawberryField,
        definition: GraphQLField,
        nodes: list[FieldNode],
        parent: Selection,
        fetched: Entity[object] | None,
    ) -> Leaf | Child | Link | PagedLink | Joined | None:
        """A field declared as data (a relation, a nested connection, a roll-up, a link's
        id), or None."""
        metadata = strawberry_field.metadata
        if (spec := metadata.get(RELATION)) is not None:
            return self.link(key, spec, definition, nodes, parent, fetched)
        if (pages := metadata.get(NESTED_PAGE)) is not None:
            return self.paged_link(key, pages, definition, nodes, parent, fetched)
        if (rollup := metadata.get(ROLLUP)) is not None:
            return self.rollup(key, rollup, definition, nodes, parent, fetched)
        if (link_id := metadata.get(LINK_ID)) is not None:
            return self.link_id(key, link_id, definition, parent, fetched)
        return None

    def link(
        self,
        key: str,
        spec: Relation,
        definition: GraphQLField,
        nodes: list[FieldNode],
        parent: Selection,
        fetched: Entity[object] | None,
    ) -> Link | Joined:
        if isinstance(spec, ToOne) and fetched is not None and parent.columns.joinable:
            return self.joined(key, spec, definition, nodes, parent, fetched)
        named, many, nullable = unwrap(definition.type)
        own_key = "id" if isinstance(spec, ToMany) else spec.key_column
        parent_key = reader(parent, fetched, own_key, processed=False)
        selection = self.selection(named, nodes, fetched=spec.entity)
        group_column = spec.parent_column if isinstance(spec, ToMany) else "id"
        group_key = operator.itemgetter(selection.column(group_column))
        statement = relation_statement(spec, selection.columns)
        self.statements += 1
        return Link(
            key, spec, definition, nodes[0], parent_key, selection, statement, group_key, many,
            nullable,
        )  # fmt: skip

    def paged_link(
        self,
        key: str,
        spec: NestedList[object],
        definition: GraphQLField,
        nodes: list[FieldNode],
        parent: Selection,
        fetched: Entity[object] | None,
    ) -> PagedLink:
        """A nested connection: the Connection's selection over a page of rows that one
        statement per level fetches, for all parents (their ids)."""
        named, _, _ = unwrap(definition.type)
        parent_key = reader(parent, fetched, "id", processed=False)
        outer = (self.page_entity, self.page_nodes, self.page_joinable)
        self.page_entity, self.page_nodes, self.page_joinable = spec.entity, [], True
        try:
            selection = self.selection(named, nodes, fetched=None)
            found = self.page_nodes
        finally:
            self.page_entity, self.page_nodes, self.page_joinable = outer
        if len(found) > 1:
            raise NotCompilable("several node selections")
        node = found[0] if found else Selection()
        id_at = node.column("id")
        counted = any(isinstance(item, Count) for item in selection.fields)
        self.statements += 1
        return PagedLink(
            key, spec, definition, nodes[0], parent_key, selection, node.columns, id_at,
            counted,
        )  # fmt: skip

    def link_id(
        self,
        key: str,
        spec: ToOne[object],
        definition: GraphQLField,
        parent: Selection,
        fetched: Entity[object] | None,
    ) -> Leaf:
        """A link's id (resolvers.common.children.link_id_field): the related row's id as the
        relation reads it (null in the trash), a column of the statement that fetches the
        rows holding the key (`LinkedId`)."""
        if fetched is None or spec.key_column not in fetched.model.model_fields:
            raise NotCompilable(f"{key}: a link's id of rows the plan does not fetch")
        parent.column(spec.key_column)  # what the subquery correlates with, through any alias
        at = parent.column(LinkedId(spec))
        named, _, _ = unwrap(definition.type)
        return Leaf(key, operator.itemgetter(at), output_serializer(named), False, True)

    def rollup(
        self,
        key: str,
        rollup: Rollup,
        definition: GraphQLField,
        nodes: list[FieldNode],
        parent: Selection,
        fetched: Entity[object] | None,
    ) -> Leaf | Child:
        """A roll-up figure of fetched rows: a column of the statement that fetches them."""
        if fetched is None or fetched.model is not rollup.owner.model:
            raise NotCompilable(f"{key}: a roll-up of rows the plan does not fetch")
        parent.column("id")  # what the figure's subquery correlates with, through any alias
        at = operator.itemgetter(parent.column(rollup))
        read = at if rollup.as_read else _then(at, rollup.convert)
        named, many, nullable = unwrap(definition.type)
        if hasattr(named, "serialize"):
            return Leaf(key, read, output_serializer(named), many, nullable)
        return Child(key, read, self.selection(named, nodes, fetched=None), many, nullable)

    def joined(
        self,
        key: str,
        spec: ToOne[object],
        definition: GraphQLField,
        nodes: list[FieldNode],
        parent: Selection,
        fetched: Entity[object],
    ) -> Joined:
        """A to-one relation of fetched rows, joined into the statement that fetches them."""
        if spec.key_column not in fetched.model.model_fields:
            raise NotCompilable(f"{fetched.label} has no column {spec.key_column}")
        named, _, nullable = unwrap(definition.type)
        rows = Selection(columns=parent.columns, source=parent.columns.join(spec, parent.source))
        selection = self.selection(named, nodes, spec.entity, into=rows)
        return Joined(key, operator.itemgetter(selection.column("id")), selection, nullable)
