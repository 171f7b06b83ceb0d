"""What a compiled plan is made of: the response shape, with where each value comes from
(resolvers/compiled/plan.py builds it, run.py runs it, assemble.py turns selections into
functions)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from graphql import FieldNode, GraphQLField, OperationDefinitionNode
from strawberry.types.field import StrawberryField

from app.services.rollups.queries import Rollup
from resolvers.common.nested import NestedList
from resolvers.common.relations import ChildOrder, Relation, ToOne
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
    # A to-many list asked in another order (`orderBy`): its statement, compiled when the
    # order is first asked (the order may come in a variable), by the order asked.
    ordered: dict[ChildOrder, Statement] = field(default_factory=dict)


@dataclass(eq=False)
class PagedLink:
    """A nested connection (resolvers.common.nested): each parent's page of the level's rows,
    and its count when `totalCount` is selected, in one statement for all parents of the
    level (app.data.child_pages). The response object is the executor's Connection, built
    from the page, so the connection's own selection (edges, pageInfo, totalCount) reads it
    as it reads a list root's."""

    key: str
    spec: NestedList[object]
    definition: GraphQLField
    node: FieldNode
    parent_key: Callable[[Any], Any]  # the parent's id
    selection: Selection  # of the Connection
    rows: Columns  # what the statement selects of the page's rows (the edges' nodes read it)
    id_at: int  # the row's id among them
    counted: bool  # totalCount is selected: the statement counts each parent's children
    # The compiled statement of each page shape met (order, direction, cursor side)
    compiled: dict[tuple[Any, ...], Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Join:
    """A to-one relation's row joined into a statement of the plan (a LEFT JOIN, so a missing
    row reads as nulls), by the key that the statement's own rows hold (`on` None) or that
    another joined row holds. Saves the relation a statement of its own."""

    spec: ToOne[object]
    on: Join | None


@dataclass(frozen=True)
class Joined:
    """A to-one relation whose row comes joined into its parent's rows (see `Join`)."""

    key: str
    present: Callable[[Any], Any]  # the joined row's id: None when there is no row
    selection: Selection  # reads the parent's rows too
    nullable: bool


@dataclass(frozen=True)
class LinkedId:
    """A link's id as its relation reads it (resolvers.common.relations.LINK_ID): the related
    row's id, null when there is none or the read filters hide it (in the trash). A
    correlated subquery selected with the rows that hold the key, so the link's id costs no
    statement of its own, in a page's rows as in joined ones."""

    spec: ToOne[object]

    def expression(self, rows: Any) -> Any:
        target = self.spec.entity
        key = getattr(rows, self.spec.key_column)
        found = sa.select(target.id).where(target.id == key)
        return found.correlate_except(target.model).scalar_subquery()


Selected = str | Rollup | LinkedId  # what a statement of the plan selects, by name


@dataclass
class Columns:
    """What one statement of the plan selects, by position: its own entity's columns (source
    None) and those of the rows joined into it, shared by every selection that reads them. A
    name is a column's, or a roll-up figure computed for the row (a correlated subquery)."""

    names: list[tuple[Join | None, Selected]] = field(default_factory=list)
    joins: list[Join] = field(default_factory=list)  # each after the join it hangs from
    joinable: bool = True  # False: the resolver builds the statement (a list root's page)

    def join(self, spec: ToOne[object], on: Join | None) -> Join:
        """The join of `spec` on `on`'s rows: one per relation, however many aliases ask."""
        for join in self.joins:
            if join.spec == spec and join.on is on:
                return join
        self.joins.append(Join(spec, on))
        return self.joins[-1]

    def at(self, source: Join | None, name: Selected) -> int:
        if (source, name) not in self.names:
            self.names.append((source, name))
        return self.names.index((source, name))


@dataclass
class Selection:
    fields: list[Leaf | Typename | Child | Count | Link | PagedLink | Joined] = field(
        default_factory=list
    )
    columns: Columns = field(default_factory=Columns)  # fetched rows only: what to select
    source: Join | None = None  # fetched rows only: which of the rows' entities it reads
    build: Builder | None = None  # set by `seal`: value -> response object

    def column(self, name: Selected) -> int:
        return self.columns.at(self.source, name)

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
