"""Reading fetched rows: the SQL of a relation level or lookup, each selected value's
position in the rows, and the scalars' output serializers."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from graphql import GraphQLEnumType, GraphQLError, is_specified_scalar_type
from sqlalchemy.orm import aliased

from app.data.batch_reads import children_statement, rows_by_ids_statement
from app.data.child_pages import ChildPages, Start
from app.data.records import Entity
from app.data.tenant_filter import READ_FILTERS
from app.services.rollups.queries import Rollup
from resolvers.common.relations import Relation, ToMany
from resolvers.compiled.assemble import unchanged
from resolvers.compiled.nodes import Columns, Join, LinkedId, Selected, Selection
from resolvers.compiled.sql import DIALECT, NotCompilable, Statement, compile_once


def output_serializer(named: Any) -> Callable[[Any], Any]:
    """The scalar's serializer, or a cheaper one that gives the same result for the values
    the columns hold (the differential tests hold the two to that)."""
    if is_specified_scalar_type(named):
        if named.name in ("String", "Boolean", "Int"):
            return unchanged  # text, bool and int columns: the serializer returns them unchanged
        if named.name == "ID":
            return str
    wrapped = getattr(named, "wrapped_cls", None)
    if isinstance(named, GraphQLEnumType) and wrapped is not None:
        names = {m: n for n, v in named.values.items() for m in wrapped if m.value == v.value}
        return names.__getitem__
    serialize: Callable[[Any], Any] = named.serialize
    return serialize


def scalar_reading(
    parent: Selection, fetched: Entity[object] | None, name: str, named: Any
) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """How a scalar field is read from a value, and serialized. An enum column's text goes
    straight to its output: the serializer of the member SQLAlchemy would make of it, worked
    out once per text here (not a member and a hash of it per row)."""
    serialize = output_serializer(named)
    read = reader(parent, fetched, name, processed=False)
    if fetched is None or not isinstance(column_type := fetched.column(name).type, sa.Enum):
        return read, serialize
    process = _enum_members(column_type)
    try:
        outputs = {text: serialize(process(text)) for text in column_type.enums}
    except (LookupError, ValueError, TypeError, GraphQLError):  # a member GraphQL lacks
        return reader(parent, fetched, name), serialize  # per row, as the executor meets it
    return read, outputs.__getitem__


def reader(
    parent: Selection, fetched: Entity[object] | None, name: str, processed: bool = True
) -> Callable[[Any], Any]:
    """How to read `name` from a value: an attribute of an object, or a column of a row this
    plan fetched, converted as SQLAlchemy converts it (enums, for instance)."""
    if fetched is None:
        return operator.attrgetter(name)
    if name not in fetched.model.model_fields or name == "tenant_id":
        raise NotCompilable(f"{fetched.label} has no column {name}")
    at = operator.itemgetter(parent.column(name))
    column_type = fetched.column(name).type
    # asyncpg itself returns what SQLAlchemy would (Decimal, datetime, UUID, decoded JSON),
    # except for enums, which SQLAlchemy turns from their names into members.
    if not processed or not isinstance(column_type, sa.Enum):
        return at
    process = _enum_members(column_type)

    def read(row: Any) -> Any:
        value = at(row)
        return None if value is None else process(value)

    return read


def _enum_members(column_type: sa.Enum) -> Callable[[Any], Any]:
    """What SQLAlchemy makes of an enum column's text: its member."""
    process = column_type.dialect_impl(DIALECT).result_processor(DIALECT, None)
    assert process is not None
    return process


def relation_statement(
    spec: Relation, columns: Columns, order_by: Sequence[Any] | None = None
) -> Statement:
    """The relation's SQL for any tenant and any set of parents, with the read filters
    (tenant and trash; on its own rows, and in the ON clause of every row joined into them); a
    to-many one in `order_by` (else its own order)."""
    entity = spec.entity
    own = _own_columns(entity, columns)
    select = _joined_select(columns)
    if isinstance(spec, ToMany):
        limit: Any = sa.bindparam("limit") if spec.limited else None
        parents: Any = sa.bindparam("parents")
        ordering = spec.order_by if order_by is None else order_by
        built = children_statement(
            entity, spec.parent_column, own, parents, ordering, limit, select=select
        )
    else:
        built = rows_by_ids_statement(entity, own, sa.bindparam("parents"), select=select)
    built = built.options(*READ_FILTERS)
    return compile_once(built)


def selected(rows: Any, name: Selected) -> Any:
    """What a statement selects for `name` from `rows` (a model or an alias of it): the
    column, or the roll-up figure computed for the row."""
    return name.expression(rows) if isinstance(name, Rollup | LinkedId) else getattr(rows, name)


def _own_columns(entity: Entity[object], columns: Columns) -> list[Any]:
    """The statement's own columns that its select reads: those selected, and join keys."""
    names = [name for source, name in columns.names if source is None and isinstance(name, str)]
    names += [join.spec.key_column for join in columns.joins if join.on is None]
    return [entity.column(name) for name in dict.fromkeys(names)]


def page_statement(
    pages: ChildPages[object], columns: Columns, bounds: dict[str, Any], counted: bool
) -> sa.Select[Any]:
    """A nested connection's level (app.data.child_pages) with the columns its nodes read and
    the rows joined into them, for any tenant and any set of parents, with the read filters."""
    own = _own_columns(pages.entity, columns)
    built = pages.statement(own, bounds, counted=counted, select=_joined_select(columns))
    return built.options(*READ_FILTERS)


def _joined_select(columns: Columns) -> Callable[..., sa.Select[Any]]:
    """The select of `columns` from a statement's rows (`base`: its entity, or the alias that
    a per-parent limit reads them through), with a LEFT JOIN for each joined row; `start`
    gives its FROM where it is not `base` alone (a nested page's parents and LATERAL)."""

    def select(base: Any, start: Start | None = None) -> sa.Select[Any]:
        aliases = {join: aliased(join.spec.entity.model) for join in columns.joins}

        def column(source: Join | None, name: Selected) -> Any:
            return selected(base if source is None else aliases[source], name)

        statement = sa.select(*(column(s, n) for s, n in columns.names))
        statement = statement.select_from(base) if start is None else start(statement)
        for join in columns.joins:
            target = aliases[join]
            on = target.id == column(join.on, join.spec.key_column)
            # The ORM's join (not sa.outerjoin): the tenant criteria go into its ON clause;
            # in the WHERE clause they would drop the parents of a missing row.
            statement = statement.outerjoin(target, on)
        return statement

    return select
