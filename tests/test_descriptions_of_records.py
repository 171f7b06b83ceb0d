"""Every element of the schema as the code builds it (`resolvers.schema.build_schema`, not the
exported file) is described, each named with the resolver package that defines it, so a
failure says which module to edit (`deals: Mutation.addDealOwner(role)`); and
`described_enum`, which describes the values of a service's enum, refuses one whose members and
descriptions differ.

tests/test_schema_descriptions.py checks the same 100% on the exported `schema.graphql` (what
GraphiQL, codegen and clients read). This file checks the built schema instead, attributes each
element to a package (the attribution itself is tested below, so a misread package cannot hide
anything: an element of no package is checked too, labelled `-`), and runs without the export.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator

import pytest
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
)

from app.internals import graphql_schema
from resolvers.common.described import described_enum
from resolvers.schema import build_schema

# The resolver packages that define types or root fields; each must be found (the last test).
PACKAGES = frozenset(
    {
        "activities",
        "common",
        "companies",
        "contact_info",
        "contacts",
        "contracts",
        "data_quality",
        "deals",
        "duplicates",
        "events",
        "lexware",
        "lookups",
        "me",
        "merges",
        "nodes",
        "owners",
        "pipelines",
        "privacy",
        "relationships",
        "search",
        "trash",
    }
)
ROOTS = frozenset({"Query", "Mutation", "Subscription"})
BUILT_IN_SCALARS = frozenset({"String", "Int", "Float", "Boolean", "ID"})
# Service enums registered by resolver packages (their classes live in app/services/<domain>).
SERVICE_ENUMS = {
    "DealOrderField": "deals",
    "PipelineOrderField": "pipelines",
    "TrashType": "trash",
    "DuplicateRule": "duplicates",
    "DuplicateStrength": "duplicates",
    "DuplicateType": "duplicates",
}


def _package(origin: object) -> str | None:
    parts = (getattr(origin, "__module__", None) or "").split(".")
    return parts[1] if parts[0] == "resolvers" and len(parts) > 2 else None


def _type_package(named: GraphQLNamedType) -> str | None:
    if named.name in SERVICE_ENUMS:
        return SERVICE_ENUMS[named.name]
    definition = (named.extensions or {}).get("strawberry-definition")
    return _package(getattr(definition, "origin", None))


def _root_field_package(field: object) -> str | None:
    definition = (getattr(field, "extensions", None) or {}).get("strawberry-definition")
    return _package(getattr(definition, "origin", None))


def _resolver_package(field: object) -> str | None:
    """The package of a field's resolver: packages also build fields of other packages' types
    (`Company.possibleDuplicates`, `Contact.mergedFrom`, ...)."""
    definition = (getattr(field, "extensions", None) or {}).get("strawberry-definition")
    resolver = getattr(definition, "base_resolver", None)
    return _package(getattr(resolver, "wrapped_func", None))


def _field_package(type_name: str, type_package: str | None, field: object) -> str | None:
    if type_name in ROOTS:
        return _root_field_package(field)
    built_by = _resolver_package(field)
    # A shared helper's resolver (resolvers.common) says nothing about who owns the field.
    return built_by if built_by not in (None, "common") else type_package


def _undescribed(schema: GraphQLSchema) -> Iterator[str]:
    """Each element without a description (blank counts as none), as `package: Type.field(arg)`."""
    for name, named in schema.type_map.items():
        if name.startswith("__") or name in BUILT_IN_SCALARS:
            continue
        package = _type_package(named)
        if not (named.description or "").strip():
            yield f"{package or '-'}: {name}"
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                owner = _field_package(name, package, field) or "-"
                label = f"{owner}: {name}.{field_name}"
                if not (field.description or "").strip():
                    yield label
                for argument, arg in field.args.items():
                    if not (arg.description or "").strip():
                        yield f"{label}({argument})"
        elif isinstance(named, GraphQLInputObjectType):
            for input_name, value in named.fields.items():
                if not (value.description or "").strip():
                    yield f"{package or '-'}: {name}.{input_name}"
        elif isinstance(named, GraphQLEnumType):
            for value_name, enum_value in named.values.items():
                if not (enum_value.description or "").strip():
                    yield f"{package or '-'}: {name}.{value_name}"


def test_every_element_of_the_built_schema_is_described() -> None:
    missing = list(_undescribed(graphql_schema(build_schema())))
    assert not missing, f"{len(missing)} without a description:\n" + "\n".join(missing)


def test_an_undescribed_element_is_named_with_its_package() -> None:
    """The check itself, on a schema built here: every kind of element is found, with the
    package of the module that defines it (`-`: none, as for a type of this test module)."""

    @strawberry.type
    class Query:
        @strawberry.field
        def f(self, a: int, b: int = 0) -> int:
            return a + b

    missing = list(_undescribed(graphql_schema(strawberry.Schema(query=Query))))
    assert missing == ["-: Query", "-: Query.f", "-: Query.f(a)", "-: Query.f(b)"]


def test_the_packages_are_found_in_the_schema() -> None:
    """The attribution above must see every package's root fields or types (else it would
    name them wrongly), and the fields some packages build on others' types."""
    schema = graphql_schema(build_schema())
    roots = [schema.query_type, schema.mutation_type, schema.subscription_type]
    found = {
        _root_field_package(field)
        for root in roots
        if root is not None
        for field in root.fields.values()
    }
    types = {_type_package(named) for named in schema.type_map.values()}
    assert found | types >= PACKAGES
    company = schema.type_map["Company"]
    assert isinstance(company, GraphQLObjectType)
    built_here = {
        _field_package("Company", "companies", company.fields[f])
        for f in ("possibleDuplicates", "mergedInto")
    }
    assert built_here == {"duplicates", "merges"}
    unions = [n for n in schema.type_map.values() if isinstance(n, GraphQLUnionType)]
    assert {u.name for u in unions} >= {"TrashedRecord", "DuplicateRecord", "DataQualityRecord"}


def test_described_enum_refuses_a_member_without_description() -> None:
    class Colour(enum.Enum):
        RED = "RED"
        GREEN = "GREEN"

    with pytest.raises(ValueError, match="GREEN"):
        described_enum(Colour, "A colour.", {"RED": "Like a fire engine."})


def test_described_enum_refuses_a_description_of_no_member() -> None:
    class Size(enum.Enum):
        SMALL = "SMALL"

    with pytest.raises(ValueError, match="LARGE"):
        described_enum(Size, "A size.", {"SMALL": "Fits.", "LARGE": "Does not."})


class Mood(enum.Enum):  # at module level: the schema below resolves its name here
    CALM = "calm"
    BUSY = "busy"


def test_described_enum_describes_each_value() -> None:
    described_enum(Mood, "How a team feels.", {"CALM": "No deadline.", "BUSY": "Quarter end."})

    @strawberry.type
    class Query:
        mood: Mood = Mood.CALM

    printed = strawberry.Schema(query=Query).as_str()
    assert '"""How a team feels."""\nenum Mood {' in printed
    assert '"""No deadline."""\n  CALM' in printed
    assert '"""Quarter end."""\n  BUSY' in printed
