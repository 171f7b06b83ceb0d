"""Assembling response objects: one Python function per selection, generated when the plan is
compiled, that reads a value's fields and returns the response dict in one pass, with no
per-field dispatch (which a generic loop over field descriptions pays for every object).

The generated code only names the selection's own readers, serializers and links, passed in
as constants, and response keys as string literals (`repr`), so nothing of a query's text is
ever executed.
"""

from __future__ import annotations

import keyword
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from resolvers.compiled.sql import NotCompilable

if TYPE_CHECKING:
    from resolvers.compiled.nodes import Selection

Builder = Callable[[Any, Any], dict[str, Any]]  # (value, run) -> the response object


def unchanged(value: Any) -> Any:
    """The serializer of values that are already their output (text, numbers, booleans)."""
    return value


def _null() -> NotCompilable:
    return NotCompilable("null in a non-null field")  # the executor reports it


class _Source:
    """The lines of one generated function and the constants they name."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {"_null": _null}
        self.entries: list[str] = []  # "key": expression, in response order

    def constant(self, value: Any) -> str:
        name = f"c{len(self.constants)}"
        self.constants[name] = value
        return name

    def checked(self, at: int, read: Callable[[Any], Any], nullable: bool) -> str:
        """A local holding the read value; a non-null field that reads None raises."""
        self.lines.append(f"v{at} = {self.reading(read)}")
        if not nullable:
            self.lines.append(f"if v{at} is None: raise _null()")
        return f"v{at}"

    def reading(self, read: Callable[[Any], Any]) -> str:
        """`value[3]` or `value.name` for plain getters (no call), else a call of `read`."""
        if isinstance(read, operator.itemgetter | operator.attrgetter):
            arguments = cast(tuple[Any, ...], read.__reduce__()[1])
            if len(arguments) == 1 and type(arguments[0]) is int:
                return f"value[{arguments[0]}]"
            name = str(arguments[0])
            if len(arguments) == 1 and name.isidentifier() and not keyword.iskeyword(name):
                return f"value.{name}"
        return f"{self.constant(read)}(value)"


def _leaf(source: _Source, at: int, leaf: Any) -> str:
    local = source.checked(at, leaf.read, leaf.nullable)
    serialize = leaf.serialize
    if leaf.many:
        each = "x" if serialize is unchanged else f"{source.constant(serialize)}(x)"
        shaped = f"[{each} for x in {local}]"
    else:
        shaped = local if serialize is unchanged else f"{source.constant(serialize)}({local})"
    if not leaf.nullable or shaped == local:
        return shaped
    return f"(None if {local} is None else {shaped})"


def _child(source: _Source, at: int, child: Any) -> str:
    local = source.checked(at, child.read, child.nullable)
    build = source.constant(child.selection.build)
    shaped = f"[{build}(x, run) for x in {local}]" if child.many else f"{build}({local}, run)"
    return shaped if not child.nullable else f"(None if {local} is None else {shaped})"


def _joined(source: _Source, at: int, joined: Any) -> str:
    """The joined row's object, built from the same fetched row; a missing row is null."""
    local = source.checked(at, joined.present, joined.nullable)
    shaped = f"{source.constant(joined.selection.build)}(value, run)"
    return shaped if not joined.nullable else f"(None if {local} is None else {shaped})"


def builder(selection: Selection) -> Builder:
    """The function that turns one value (an object or a fetched row) into the selection's
    response object, registering its links (filled level by level) and counts with the run."""
    from resolvers.compiled.nodes import Child, Count, Joined, Leaf, Link, PagedLink

    source = _Source()
    after: list[str] = []  # statements that need `out`
    for at, item in enumerate(selection.fields):
        key = repr(item.key)
        if isinstance(item, Leaf):
            source.entries.append(f"{key}: {_leaf(source, at, item)}")
        elif isinstance(item, Child):
            source.entries.append(f"{key}: {_child(source, at, item)}")
        elif isinstance(item, Joined):
            source.entries.append(f"{key}: {_joined(source, at, item)}")
        elif isinstance(item, Link | PagedLink):
            source.entries.append(f"{key}: None")
            link, parent_key = source.constant(item), source.constant(item.parent_key)
            after.append(f"links.setdefault({link}, []).append((out, {parent_key}(value)))")
        elif isinstance(item, Count):
            source.entries.append(f"{key}: None")
            count = source.constant(item.read)
            after.append(f"run.counts.append((out, {key}, {count}(value)))")
        else:
            source.entries.append(f"{key}: {item.name!r}")
    body = [*source.lines, "out = {" + ", ".join(source.entries) + "}"]
    if after:
        body += ["links = run.links", *after]
    text = "def build(value, run):\n" + "".join(f"    {line}\n" for line in [*body, "return out"])
    namespace = dict(source.constants)
    exec(compile(text, "<compiled selection>", "exec"), namespace)  # noqa: S102 - see module doc
    built: Builder = namespace["build"]
    return built
