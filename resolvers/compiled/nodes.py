"""What a compiled plan is made of: the response shape, with where each value comes from
(resolvers/compiled/plan.py builds it, run.py runs it, assemble.py turns selections into
functions)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import FieldNode, GraphQLField, OperationDefinitionNode
from strawberry.types.field import StrawberryField

from resolvers.common.relations import Relation
from resolvers.compiled.assemble import Builder, builder
from resolvers.compiled.sql import RequestStatements, Statement


@dataclass(frozen=True)
class Leaf:
    key: str
    read: Callable[[Any], Any]  # attribute of an object, or position in a fetched row
    serialize: Callable[[Any], Any]
    many: bool  # a list of scalars
    nullable: bool


@dataclass(frozen=True)
class Typename:
    key: str
    name: str


@dataclass(frozen=True)
class Child:
    """An object-valued attribute of a Python object (Connection.edges, Edge.node, ...)."""

    key: str
    read: Callable[[Any], Any]
    selection: Selection
    many: bool
    nullable: bool


@dataclass(frozen=True)
class Count:
    key: str
    read: Callable[[Any], Any]  # the connection's count_items


@dataclass(eq=False)
class Link:
    """A declared relation: fetched for all parents of a level in one statement."""

    key: str
    spec: Relation
    definition: GraphQLField
    node: FieldNode
    parent_key: Callable[[Any], Any]  # the parent's id (ToMany) or foreign key (ToOne)
    selection: Selection
    statement: Statement
    group_key: Callable[[Any], Any]  # a fetched row's parent id (ToMany) or id (ToOne)
    many: bool
    nullable: bool


@dataclass
class Selection:
    fields: list[Leaf | Typename | Child | Count | Link] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # fetched rows only: what to select
    build: Builder | None = None  # set by `seal`: value -> response object

    def column(self, name: str) -> int:
        if name not in self.columns:
            self.columns.append(name)
        return self.columns.index(name)

    def seal(self) -> Selection:
        self.build = builder(self)
        return self


@dataclass(frozen=True)
class Root:
    key: str
    definition: GraphQLField
    strawberry_field: StrawberryField
    node: FieldNode
    selection: Selection
    many: bool
    nullable: bool
    lookup: Statement | None = None  # a row by its id, read by the plan (else: the resolver)
    page: PageRoot | None = None  # a page of rows: the resolver builds it, the plan runs it


@dataclass(frozen=True)
class PageRoot:
    """A list root's rows: the columns its nodes read (by position), the id's position, and
    the SQL of each shape of page query it has met."""

    columns: tuple[Any, ...]  # SQLAlchemy columns of the entity
    id_at: int
    statements: RequestStatements = field(default_factory=RequestStatements)


@dataclass(frozen=True)
class Plan:
    operation: OperationDefinitionNode
    roots: tuple[Root, ...]
    reads_rows: bool  # runs statements of its own (lookups, relations)
