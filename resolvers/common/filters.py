"""Relation filters on the GraphQL side: the descriptions the inputs share, and turning a
filter input with nested filters into the service's filter
(app.services.common.relation_filters compiles it).

A domain's `queries.py` registers how its filter input becomes its service filter
(`register_input`); a relation field of another domain's filter converts through `nested` and
`quantified`, which find the converter by the input's type (the two domains' modules import
each other's filters only lazily, for GraphQL, and never their converters). A converter names
its fields `filter.<field>` in errors; at a nested level they become `filter.company.<field>`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

from app.errors import BadUserInput, FieldProblem
from app.services.common.relation_filters import MAX_DEPTH, Quantified

InputT = TypeVar("InputT")

SOME = "Some related record matches."
NONE = "No related record matches."
EVERY = "Every related record matches: true for a record without related records."
AND = "Every one of these filters matches ([] matches everything)."
OR = "At least one of these filters matches ([] matches nothing)."
NOT = (
    "This filter does not match (a comparison with an empty field counts as not matching: "
    "`not: {industryId: X}` includes the records without an industry)."
)
TO_ONE = "The related record is set and matches."
OWNED_BY_ME = (
    "true: the caller is among the record's owners (any role); false: is not. Needs a user."
)
LIST_FILTER = (
    "A filter over related records: each quantifier that is set must hold. Filters nest "
    f"at most {MAX_DEPTH} levels deep."
)

_CONVERTERS: dict[type, Callable[[Any], Any]] = {}
_DEPTH: ContextVar[int] = ContextVar("filter_depth", default=0)  # of the conversion running


def register_input(input_type: type[InputT], convert: Callable[[InputT], Any]) -> None:
    _CONVERTERS[input_type] = convert


def nested(value: Any, name: str) -> Any:
    """The service filter of a nested filter input at relative path `name`, or None."""
    if value is None:
        return None
    depth = _DEPTH.get() + 1
    if depth > MAX_DEPTH:  # the service refuses it too; this bounds the recursion here
        raise BadUserInput.single(f"filter.{name}", f"nests filters deeper than {MAX_DEPTH} levels")
    token = _DEPTH.set(depth)
    try:
        return _CONVERTERS[type(value)](value)
    except BadUserInput as error:
        raise _below(error, name) from None
    finally:
        _DEPTH.reset(token)


class ListInput(Protocol):
    @property
    def some(self) -> Any: ...
    @property
    def none(self) -> Any: ...
    @property
    def every(self) -> Any: ...


def quantified(value: ListInput | None, name: str) -> Quantified[Any] | None:
    if value is None:
        return None
    return Quantified(
        some=nested(value.some, f"{name}.some"),
        none=nested(value.none, f"{name}.none"),
        every=nested(value.every, f"{name}.every"),
    )


class CombinedInput(Protocol):
    @property
    def and_(self) -> list[Any] | None: ...
    @property
    def or_(self) -> list[Any] | None: ...
    @property
    def not_(self) -> Any: ...


def combinators(value: CombinedInput) -> dict[str, Any]:
    """`and_`, `or_` and `not_` of the service filter."""
    any_of = value.or_
    return {
        "and_": tuple(nested(item, f"and[{i}]") for i, item in enumerate(value.and_ or ())),
        "or_": None if any_of is None else tuple(
            nested(item, f"or[{i}]") for i, item in enumerate(any_of)
        ),
        "not_": nested(value.not_, "not"),
    }  # fmt: skip


def _below(error: BadUserInput, name: str) -> BadUserInput:
    problems = [
        FieldProblem(f"filter.{name}" + p.field.removeprefix("filter"), p.message)
        if p.field == "filter" or p.field.startswith("filter.")
        else p
        for p in error.problems
    ]
    if len(problems) == 1:
        return BadUserInput.single(problems[0].field, problems[0].message)
    return BadUserInput(problems)
