"""Filters across relations: a to-one relation filtered by the related record's own filter,
a to-many one by `some` / `none` / `every`, and `and` / `or` / `not` on every filter.

Each relation becomes a correlated `EXISTS` semi-join on uuid columns (`Link.matching`), so
PostgreSQL answers it from the related table's (tenant_id, key) index under row-level
security: uuid equality is leakproof, an index condition even as `crm_tenant`. The related
table enters the subquery as its model, so the session's tenant filter (the
`with_loader_criteria` of app.data.tenant_filter, which reaches every occurrence of an entity,
subqueries included) scopes it as well; the related rows of another tenant never count.

A domain's `queries.py` declares its filter dataclass (with `and_`, `or_`, `not_` and its
relations) and registers it (`register`): its scalar conditions (`own`, the `_where` it had)
and its relations. `conditions` then compiles a filter of any registered type, nested ones
included, into the conditions of a WHERE clause, within the bounds of `MAX_DEPTH` and
`MAX_CONDITIONS`. Paths in errors are the GraphQL ones: `filter.company.deals.some.status`.

Semantics where SQL's three-valued logic would surprise: `not: F` matches the records F does
not match (a NULL comparison inside F counts as "does not match", so `not: {industryId: X}`
includes the companies without an industry); `every: F` matches when no related record fails
F (NOT EXISTS ... AND NOT coalesce(F, false)), so it is true for a record without related
ones; `and: []` matches everything, `or: []` nothing.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import sqlalchemy as sa

from app.errors import BadUserInput, FieldProblem

MAX_DEPTH = 5  # nested filter objects below the root: filter.company.deals.some is 2
MAX_CONDITIONS = 50  # set fields and nested filter objects in one filter, all levels

F = TypeVar("F")
Condition = Any  # a SQLAlchemy boolean expression


@dataclass(frozen=True)
class Quantified(Generic[F]):
    """A to-many relation's filter: some related record matches, none does, every one does
    (each that is set must hold)."""

    some: F | None = None
    none: F | None = None
    every: F | None = None


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_CONDITIONS


@dataclass(frozen=True)
class Walk:
    """Where a filter is being compiled: its path (for errors), its depth, the caller (for
    `ownedByMe`; None in a job's scope) and the table of the level (`Link.target`)."""

    caller: uuid.UUID | None = None
    path: str = "filter"
    depth: int = 0
    table: Any = None
    budget: _Budget = field(default_factory=_Budget, compare=False)

    def into(self, name: str, table: Any = None) -> Walk:
        path = f"{self.path}.{name}"
        if self.depth >= MAX_DEPTH:
            raise BadUserInput.single(path, f"nests filters deeper than {MAX_DEPTH} levels")
        return dataclasses.replace(self, path=path, depth=self.depth + 1, table=table)

    def me(self, name: str) -> uuid.UUID:
        """The caller's user id, for a `...ToMe` / `...ByMe` field named `name`."""
        if self.caller is None:
            raise BadUserInput.single(f"{self.path}.{name}", "needs a signed-in user")
        return self.caller

    def charge(self, used: int) -> None:
        self.budget.left -= used
        if self.budget.left < 0:
            raise BadUserInput.single(self.path, f"has more than {MAX_CONDITIONS} conditions")


@dataclass(frozen=True)
class Link:
    """A relation as SQL: the related rows (`target_key`'s table) whose `target_key` equals
    the record's `source_key`. A to-many relation: the children's foreign key and the
    record's id; a to-one relation: the related record's id and the record's foreign key."""

    name: str  # the GraphQL field
    source: Any  # the record's model: the subquery correlates to it alone
    target_key: Any
    source_key: Any

    @property
    def target(self) -> Any:
        return self.target_key.class_

    def matching(self, conditions: Sequence[Condition]) -> Condition:
        # Correlated to the record's table alone, said rather than left to auto-correlation
        # (which looks at the enclosing SELECT only): the related table may also be an outer
        # level's (contacts of a company of a contact) and is this subquery's own FROM.
        related = sa.select(self.target_key).where(self.target_key == self.source_key)
        return related.where(*conditions).correlate(self.source).exists()


class Combined(Protocol):
    """What every registered filter has besides its own fields."""

    @property
    def and_(self) -> Sequence[Any]: ...
    @property
    def or_(self) -> Sequence[Any] | None: ...
    @property
    def not_(self) -> Any: ...


Own = Callable[[Any, Walk], list[Condition]]


@dataclass(frozen=True)
class _Compiler:
    own: Own  # the filter's scalar conditions (errors name `filter.<field>`)
    relations: Own  # its relations and caller shortcuts (errors name their full path)


_COMPILERS: dict[type, _Compiler] = {}


def register(
    filter_type: type[F],
    own: Callable[[F, Walk], list[Condition]],
    relations: Callable[[F, Walk], list[Condition]],
) -> None:
    _COMPILERS[filter_type] = _Compiler(own, relations)


def scalar(where: Callable[[F], list[Condition]]) -> Callable[[F, Walk], list[Condition]]:
    """A domain's `_where(filter)` as the `own` of `register`."""
    return lambda f, _walk: where(f)


def conditions(f: Combined, walk: Walk) -> list[Condition]:
    """The WHERE conditions of filter `f` (of a registered type) at `walk`, nested filters
    and combinators included."""
    compiler = _COMPILERS[type(f)]
    walk.charge(_set_fields(f) + (1 if walk.depth else 0))
    try:
        found = list(compiler.own(f, walk))
    except BadUserInput as error:
        raise _moved(error, walk.path) from None
    found += compiler.relations(f, walk)
    for index, item in enumerate(f.and_):
        found.append(_all(conditions(item, walk.into(f"and[{index}]", walk.table))))
    if f.or_ is not None:
        branches = [
            _all(conditions(item, walk.into(f"or[{index}]", walk.table)))
            for index, item in enumerate(f.or_)
        ]
        found.append(sa.or_(sa.false(), *branches))
    if f.not_ is not None:
        found.append(_fails(conditions(f.not_, walk.into("not", walk.table))))
    return found


def to_one(link: Link, f: Combined | None, walk: Walk) -> list[Condition]:
    """The related record exists (the relation is set) and matches `f`."""
    if f is None:
        return []
    return [link.matching(conditions(f, walk.into(link.name, link.target)))]


def quantified(link: Link, q: Quantified[Any] | None, walk: Walk) -> list[Condition]:
    if q is None:
        return []
    found: list[Condition] = []
    if q.some is not None:
        found.append(link.matching(conditions(q.some, walk.into(f"{link.name}.some", link.target))))
    if q.none is not None:
        inner = conditions(q.none, walk.into(f"{link.name}.none", link.target))
        found.append(sa.not_(link.matching(inner)))
    if q.every is not None:
        inner = conditions(q.every, walk.into(f"{link.name}.every", link.target))
        found.append(sa.not_(link.matching([_fails(inner)])))
    return found


def owned_by_me(owners: Link, owner_user: Any, wanted: bool | None, walk: Walk) -> list[Condition]:
    """`ownedByMe`: the caller is (true) or is not (false) among the record's owners."""
    if wanted is None:
        return []
    owned = owners.matching([owner_user == walk.me("ownedByMe")])
    return [owned if wanted else sa.not_(owned)]


def _all(found: list[Condition]) -> Condition:
    return sa.and_(*found) if found else sa.true()


def _fails(found: list[Condition]) -> Condition:
    """Not matching, a NULL comparison counted as not matching."""
    return sa.not_(sa.func.coalesce(_all(found), sa.false())) if found else sa.false()


def _nested(value: Any) -> bool:
    if isinstance(value, Quantified) or type(value) in _COMPILERS:
        return True
    return isinstance(value, tuple) and any(type(item) in _COMPILERS for item in value)


def _set_fields(f: Any) -> int:
    """The filter's own conditions: its fields set to other than their default (nested
    filters are charged at their own level)."""
    used = 0
    for item in dataclasses.fields(f):
        value = getattr(f, item.name)
        if not _nested(value) and value != item.default and value != ():
            used += 1
    return used


def _moved(error: BadUserInput, path: str) -> BadUserInput:
    """A domain's error about `filter.<field>`, about `<path>.<field>` at a nested level."""
    if path == "filter":
        return error
    problems = [
        FieldProblem(path + p.field.removeprefix("filter"), p.message)
        if p.field.startswith("filter.")
        else p
        for p in error.problems
    ]
    if len(problems) == 1:
        return BadUserInput.single(problems[0].field, problems[0].message)
    return BadUserInput(problems)
