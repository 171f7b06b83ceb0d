"""The read models (app/services/<domain>/rows.py) are the typed boundary between the services
and the resolvers. mypy checks that each side keeps to them; these tests check the two things
mypy cannot see: that a read model says what the database hands out (its entity's record
columns, with their types), and that it carries every field of the GraphQL types it feeds
(a resolver returns rows where the schema shows a GraphQL type, `graphql_type=`)."""

from __future__ import annotations

import collections.abc
import dataclasses
import importlib
import pkgutil
import types
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from strawberry.types.base import (
    StrawberryList,
    StrawberryObjectDefinition,
    StrawberryOptional,
    get_object_definition,
)
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType

import app.services
from app.data.records import Entity
from resolvers.schema import build_schema

NONE = type(None)


def _entities() -> list[Entity[object]]:
    """Every entity the services declare: module attributes, and those held by a module's
    dataclass constants (owner kinds, value kinds, Lexware record kinds)."""
    found: dict[int, Entity[object]] = {}
    for module_info in pkgutil.walk_packages(app.services.__path__, "app.services."):
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            held = [value]
            if dataclasses.is_dataclass(value) and not isinstance(value, type):
                held += [getattr(value, f.name) for f in dataclasses.fields(value)]
            found.update({id(item): item for item in held if isinstance(item, Entity)})
    return sorted(found.values(), key=lambda entity: (entity.model.__name__, entity.label))


def _attributes(cls: Any) -> dict[str, Any]:
    """What a read model (or a class standing in for one) says its rows have: annotated
    attributes, and properties with their return types."""
    hints = dict(typing.get_type_hints(cls))
    for name in dir(cls):
        member = getattr(cls, name, None)
        if isinstance(member, property) and member.fget is not None:
            hints[name] = typing.get_type_hints(member.fget)["return"]
    return {name: hint for name, hint in hints.items() if not name.startswith("_")}


def _without_none(hint: Any) -> Any:
    args = typing.get_args(hint)
    if NONE not in args:
        return hint
    rest = tuple(arg for arg in args if arg is not NONE)
    return rest[0] if len(rest) == 1 else typing.Union[rest]  # noqa: UP007


def _column_types(entity: Entity[object]) -> dict[str, Any]:
    """The record columns a read of `entity` returns, each with the type its rows hold: the
    model's annotation, without None where the column is NOT NULL (the models annotate
    server-filled columns such as created_at as optional for inserts)."""
    hints = typing.get_type_hints(entity.model)
    table = entity.model.__table__
    return {
        column.key: hints[column.key]
        if table.c[column.key].nullable
        else _without_none(hints[column.key])
        for column in entity.columns
    }


ENTITIES = _entities()


def test_the_services_declare_their_entities() -> None:
    labels = {entity.label for entity in ENTITIES}
    assert {"Company", "Contact", "Deal", "Owner", "User", "Voucher"} <= labels


@pytest.mark.parametrize("entity", ENTITIES, ids=lambda e: f"{e.model.__name__}-{e.label}")
def test_a_read_model_states_its_entitys_record_columns(entity: Entity[object]) -> None:
    assert entity.row is not None, f"{entity.label}: Entity(..., row=<its read model>)"
    assert _attributes(entity.row) == _column_types(entity)


# --- the GraphQL types the read models feed -----------------------------------------------


@dataclasses.dataclass(frozen=True)
class Feed:
    """`python` values are what a resolver hands strawberry for the GraphQL type `graphql`."""

    graphql: StrawberryObjectDefinition
    python: Any
    where: str


def _strip_optional(hint: Any) -> Any:
    return _without_none(hint) if NONE in typing.get_args(hint) else hint


def _pairs(graphql: Any, python: Any, where: str) -> Iterator[Feed]:
    """Walk a field's GraphQL type and its resolver's return type together, down to the
    object types: each object type with the Python class its values are."""
    if isinstance(graphql, LazyType):
        graphql = graphql.resolve_type()
    if typing.get_origin(python) is typing.Annotated:  # a resolver's strawberry.lazy type
        lazy = typing.get_args(python)[0]
        python = lazy.resolve_type() if isinstance(lazy, LazyType) else lazy
    python = _strip_optional(python)
    origin = typing.get_origin(python)
    if isinstance(graphql, StrawberryOptional):
        yield from _pairs(graphql.of_type, python, where)
    elif isinstance(graphql, StrawberryList):
        assert origin in (list, collections.abc.Sequence), f"{where}: {python} for a list"
        yield from _pairs(graphql.of_type, typing.get_args(python)[0], where)
    elif origin is collections.abc.AsyncGenerator:  # a subscription: the items it yields
        yield from _pairs(graphql, typing.get_args(python)[0], where)
    elif (definition := get_object_definition(graphql)) is not None:
        if origin is not None and definition.concrete_of is not None:  # Connection[X]
            assert definition.concrete_of.origin is origin, f"{where}: {python} for {graphql}"
            nodes = dict(zip(definition.type_var_map, typing.get_args(python), strict=True))
            for name, node in definition.type_var_map.items():
                yield from _pairs(node, nodes[name], where)
        elif python is not definition.origin:
            yield Feed(definition, python, where)


def _feeds() -> list[Feed]:
    schema = build_schema()
    feeds = []
    for concrete in schema.schema_converter.type_map.values():
        definition = concrete.definition
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        for field in definition.fields:
            if field.base_resolver is None or field.base_resolver.type_annotation is None:
                continue
            where = f"{definition.name}.{field.python_name}"
            returned = field.base_resolver.type_annotation.evaluate()
            feeds += list(_pairs(field.type, returned, where))
    return feeds


def _parent_type(field: StrawberryField) -> Any:
    """The `strawberry.Parent[...]` a field's resolver takes (None: it takes no parent)."""
    resolver = field.base_resolver
    if resolver is None or resolver.parent_parameter is None:
        return None
    annotation = resolver.strawberry_annotations[resolver.parent_parameter]
    assert annotation is not None
    return typing.get_args(annotation.evaluate())[0]


def _satisfies(python: Any, wanted: Any) -> bool:
    """Whether rows of `python` have every attribute `wanted` names, with its type (`wanted`
    may be a union of read models: one of them)."""
    if isinstance(wanted, types.UnionType) or typing.get_origin(wanted) is typing.Union:
        return any(_satisfies(python, member) for member in typing.get_args(wanted))
    have = _attributes(python)
    return all(have.get(name) == hint for name, hint in _attributes(wanted).items())


FEEDS = _feeds()


def test_resolvers_feed_graphql_types_from_read_models() -> None:
    fed = {feed.graphql.name for feed in FEEDS}
    assert {"Company", "Deal", "Owner", "CrmEvent", "CompanyRelationship"} <= fed


@pytest.mark.parametrize("feed", FEEDS, ids=lambda feed: f"{feed.where}-{feed.graphql.name}")
def test_a_read_model_carries_the_fields_of_the_graphql_type_it_feeds(feed: Feed) -> None:
    """Plain fields are read from the row as they are: the row must have each, non-null
    where the schema promises non-null. Fields with a resolver take the row as their
    parent: the row must be what the resolver says it takes."""
    have = _attributes(feed.python)
    missing, nullable, parents = [], [], []
    for field in feed.graphql.fields:
        parent = _parent_type(field)
        if field.base_resolver is None:
            if field.python_name not in have:
                missing.append(field.python_name)
            elif not isinstance(field.type, StrawberryOptional) and NONE in typing.get_args(
                have[field.python_name]
            ):
                nullable.append(field.python_name)
        elif parent is not None and not _satisfies(feed.python, parent):
            parents.append(f"{field.python_name} takes {parent}")
    assert (missing, nullable, parents) == ([], [], []), f"{feed.python} for {feed.graphql.name}"
