"""Arguments many fields share, each with the description the schema shows for it (written
once, so `first` or `expectedVersion` means the same everywhere it appears)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Annotated, TypeVar

import strawberry
from strawberry.types.enum import has_enum_definition

EnumT = TypeVar("EnumT", bound=type[enum.Enum])

PAGE_SIZE_LIMIT = "at most MAX_PAGE_SIZE (200), more is BAD_USER_INPUT"
_SIZES = f"unset: DEFAULT_PAGE_SIZE (50); {PAGE_SIZE_LIMIT}"

PageFirst = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many items from the start of the list (or after `after`): {_SIZES}. "
        "Not together with `last`."
    ),
]
PageAfter = Annotated[
    str | None,
    strawberry.argument(
        description="The `endCursor` (or an edge's `cursor`) of the page read before: the "
        "items after it. A cursor of another list or order is BAD_USER_INPUT; not together "
        "with `before`."
    ),
]
PageLast = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many items from the end of the list (or before `before`): {_SIZES}. "
        "Not together with `first`."
    ),
]
PageBefore = Annotated[
    str | None,
    strawberry.argument(
        description="The `startCursor` (or an edge's `cursor`) of a page: the items just "
        "before it, in the list's order. A cursor of another list or order is "
        "BAD_USER_INPUT; not together with `after`."
    ),
]
ExpectedVersion = Annotated[
    int | None,
    strawberry.argument(
        description="The record's `version` as the client last read it: if someone changed "
        "the record since, the write is refused with CONFLICT (extensions.currentVersion) and "
        "nothing changes. Unset: write whatever the version."
    ),
]


def described_enum(
    cls: EnumT, description: str, values: Mapping[str, str], name: str | None = None
) -> EnumT:
    """Register `cls` (an enum of the services, which cannot hold `strawberry.enum_value`) as a
    GraphQL enum (named `name`, else as the class) with a description for it and for each of
    its values, by member name. Every
    member must be described, and nothing else: a member added later fails at import."""
    names = {member.name for member in cls}
    if names != set(values):
        raise ValueError(f"{cls.__name__}: described {sorted(values)}, members are {sorted(names)}")
    strawberry.enum(cls, name=name, description=description)
    registered: object = cls
    assert has_enum_definition(registered)
    for value in registered.__strawberry_definition__.values:
        value.description = values[value.name]
    return cls
