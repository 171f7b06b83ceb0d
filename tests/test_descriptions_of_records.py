"""Issue 24, item 7, for the resolver packages of deals, pipelines, Lexware, events, trash,
duplicates, merges, privacy and data quality: every type, field, argument, input field and enum
value they define carries a description (the whole schema's 100% is
tests/test_schema_descriptions.py); and `described_enum`, which describes the values of a
service's enum, refuses one whose members and descriptions differ."""

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
    GraphQLUnionType,
)

from app.internals import graphql_schema
from resolvers.common.described import described_enum
from resolvers.schema import build_schema

PACKAGES = frozenset(
    {
        "deals",
        "pipelines",
        "lexware",
        "events",
        "trash",
        "duplicates",
        "merges",
        "privacy",
        "data_quality",
    }
)
ROOTS = frozenset({"Query", "Mutation", "Subscription"})
# Replaced in parallel by other items of issue 24, whose engineers describe them: the stage
# and deal-owner mutations (item 2: their results change) and a deal's nested activity list
# (item 3: it becomes a connection).
ELSEWHERE = frozenset(
    {
        "Mutation.addPipelineStage",
        "Mutation.updatePipelineStage",
        "Mutation.removePipelineStage",
        "Mutation.reorderPipelineStages",
        "Mutation.addDealOwner",
        "Mutation.removeDealOwner",
        "Deal.activities",
        "Deal.lexwareVouchers",
    }
)
# Service enums registered by these packages (their classes live in app/services/<domain>).
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
    """The package of a field's resolver: these packages also build fields of other types
    (`Company.possibleDuplicates`, `Contact.mergedFrom`, ...)."""
    definition = (getattr(field, "extensions", None) or {}).get("strawberry-definition")
    resolver = getattr(definition, "base_resolver", None)
    return _package(getattr(resolver, "wrapped_func", None))


def _undescribed() -> Iterator[str]:
    """Each element of these packages without a description, as `Type.field(argument)`."""
    schema = graphql_schema(build_schema())
    for name, named in schema.type_map.items():
        if name.startswith("__"):
            continue
        package = _type_package(named)
        if name not in ROOTS and package in PACKAGES and not named.description:
            yield name
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                label = f"{name}.{field_name}"
                owner = _root_field_package(field) if name in ROOTS else package
                if owner not in PACKAGES:
                    owner = _resolver_package(field)
                if owner not in PACKAGES or label in ELSEWHERE:
                    continue
                if not field.description:
                    yield label
                yield from (f"{label}({a})" for a, arg in field.args.items() if not arg.description)
        elif isinstance(named, GraphQLInputObjectType) and package in PACKAGES:
            yield from (f"{name}.{f}" for f, value in named.fields.items() if not value.description)
        elif isinstance(named, GraphQLEnumType) and package in PACKAGES:
            yield from (f"{name}.{v}" for v, value in named.values.items() if not value.description)


def test_every_element_of_these_packages_is_described() -> None:
    assert list(_undescribed()) == []


def test_the_packages_are_found_in_the_schema() -> None:
    """The attribution above must see these packages' root fields and types (else the test
    before would pass on nothing)."""
    schema = graphql_schema(build_schema())
    roots = [schema.query_type, schema.mutation_type, schema.subscription_type]
    found = {
        _root_field_package(field)
        for root in roots
        if root is not None
        for field in root.fields.values()
    }
    assert found >= PACKAGES
    types = {_type_package(named) for named in schema.type_map.values()}
    assert types >= PACKAGES
    company = schema.type_map["Company"]
    assert isinstance(company, GraphQLObjectType)
    built_here = {
        _resolver_package(company.fields[f]) for f in ("possibleDuplicates", "mergedInto")
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
