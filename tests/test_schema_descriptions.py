"""The schema documents itself: every type, field, argument, input field and enum value of
`schema.graphql` has a description (GraphiQL and generated clients show them). A missing one
fails with its schema coordinate (`Type.field(argument:)`), so it is found at once.

Built-in scalars and the introspection types are GraphQL's own and left aside. This checks the
exported file, what GraphiQL, codegen and clients read; tests/test_descriptions_of_records.py
checks the schema as the code builds it and names the resolver package of each element.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
)

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"
BUILT_IN_SCALARS = frozenset({"String", "Int", "Float", "Boolean", "ID"})


def coordinates(named: GraphQLNamedType) -> Iterator[tuple[str, str | None]]:
    """Each describable part of a type with its description: the type, its fields and their
    arguments, its input fields, its enum values."""
    yield named.name, named.description
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        for name, field in named.fields.items():
            yield f"{named.name}.{name}", field.description
            for argument_name, argument in field.args.items():
                yield f"{named.name}.{name}({argument_name}:)", argument.description
    elif isinstance(named, GraphQLInputObjectType):
        for name, input_field in named.fields.items():
            yield f"{named.name}.{name}", input_field.description
    elif isinstance(named, GraphQLEnumType):
        for name, value in named.values.items():
            yield f"{named.name}.{name}", value.description


def described_types(schema: GraphQLSchema) -> list[GraphQLNamedType]:
    return [
        named
        for name, named in sorted(schema.type_map.items())
        if not name.startswith("__") and name not in BUILT_IN_SCALARS
    ]


def undescribed(types: list[GraphQLNamedType]) -> tuple[list[str], int]:
    """The coordinates without a description (blank counts as none), and how many there are."""
    found = [(coordinate, text) for named in types for coordinate, text in coordinates(named)]
    missing = [coordinate for coordinate, text in found if not (text and text.strip())]
    return missing, len(found)


def exported_schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text())


def test_every_schema_coordinate_has_a_description() -> None:
    missing, total = undescribed(described_types(exported_schema()))
    assert not missing, (
        f"{len(missing)} of {total} schema coordinates have no description:\n" + "\n".join(missing)
    )


def test_a_missing_description_is_named_by_its_coordinate() -> None:
    """The check itself: it finds what lacks a description at each kind of coordinate."""
    schema = build_schema(
        '"A type." type Query { "A field." f("An argument." a: Int, b: Int): Int  g: Int }\n'
        'input I { "Described." x: Int  y: Int }\n'
        'enum E { "Described." A  B }\n'
        '"  " scalar S'
    )
    missing, total = undescribed(described_types(schema))
    assert missing == ["E", "E.B", "I", "I.y", "Query.f(b:)", "Query.g", "S"]
    assert total == 12
