"""With introspection off, no error message names a part of the schema the client did not send.

graphql-core leaves its "Did you mean ...?" suggestions out when asked to (`hide_suggestions`):
validation (`HidingValidationCache`) and execution, where variables and argument literals are
coerced (`HidingExecutor`), ask for that. Its other messages still name what the client
did not send: the type a field was looked up on ("Cannot query field 'nmae' on type
'Company'."), a required argument or input field that is missing, the enum or input type a
value was expected to be, a custom scalar. `Concealer` rewrites those messages, naming only
what the client sent (the document's names, the variables' keys and values), before the error
policy codes them; any quoted schema name left over that the client did not send is replaced.

With introspection on (GraphiQL), none of this runs: suggestions help there.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    specified_directives,
    specified_scalar_types,
    validate,
    visit,
)
from strawberry.extensions import ValidationCache
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from app.errors import AppError


def _validate_hiding(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """strawberry's validate_document, without suggestions."""
    rules = (*rules, MaybeNullValidationRule, OneOfInputValidationRule)
    return validate(schema, document, rules, hide_suggestions=True)


@functools.cache
def _hiding_cache(maxsize: int | None) -> Callable[..., list[GraphQLError]]:
    return functools.lru_cache(maxsize=maxsize)(_validate_hiding)


class HidingValidationCache(ValidationCache):
    """strawberry's validation cache, validating without suggestions."""

    def __init__(self, maxsize: int | None = None) -> None:
        super().__init__(maxsize)
        self.cached_validate_document = _hiding_cache(maxsize)


class HidingExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, coercing variables and arguments without suggestions."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        kwargs["hide_suggestions"] = True
        return super().build(*args, **kwargs)


class _Names(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: set[str] = set()

    def enter_name(self, node: NameNode, *_: Any) -> None:
        self.found.add(node.value)


def names_in(document: DocumentNode | None) -> set[str]:
    names = _Names()
    if document is not None:
        visit(document, names)
    return names.found


def values_in(variables: object) -> Iterator[str]:
    """The keys and text values of the variables: names the client sent, too."""
    if isinstance(variables, Mapping):
        for key, value in variables.items():
            yield str(key)
            yield from values_in(value)
    elif isinstance(variables, list):
        for item in variables:
            yield from values_in(item)
    elif isinstance(variables, str):
        yield variables


def schema_names(schema: GraphQLSchema) -> frozenset[str]:
    """Every name of the schema a message could reveal, but the spec's own (Int, @skip, ...)."""
    public = {*specified_scalar_types, *(d.name for d in specified_directives)}
    public |= {arg for d in specified_directives for arg in d.args}
    names: set[str] = set()
    for name, type_ in schema.type_map.items():
        if name.startswith("__") or name in public:
            continue
        names.add(name)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in type_.fields.items():
                names.add(field_name)
                names.update(field.args)
        elif isinstance(type_, GraphQLInputObjectType):
            names.update(type_.fields)
        elif isinstance(type_, GraphQLEnumType):
            names.update(type_.values)
    return frozenset(names - public)


@dataclass(frozen=True)
class _Rewrite:
    """A message of graphql-core's that names schema parts (its groups `t`, `t2`), and the
    same message naming only what the client sent."""

    pattern: re.Pattern[str]
    generic: Callable[[re.Match[str], Callable[[], str]], str]
    always: bool = False  # it names what the client did not send (a missing field, argument)


def _rule(pattern: str, generic: Callable[..., str], always: bool = False) -> _Rewrite:
    return _Rewrite(re.compile(pattern, re.S), generic, always)


# graphql-core 3.3's messages, with hide_suggestions; the first that matches is rewritten.
_REWRITES = (
    _rule(
        r"^Cannot query field '(?P<f>[^']+)' on type '(?P<t>[^']+)'\.$",
        lambda m, where: f"Cannot query field '{m['f']}' {where()}.",
    ),
    _rule(
        r"^Unknown argument '(?P<a>[^']+)' on field '(?P<t>[^'.]+)\.(?P<f>[^']+)'\.$",
        lambda m, _: f"Unknown argument '{m['a']}' on field '{m['f']}'.",
    ),
    _rule(
        r"^Value (?P<v>.+) does not exist in '(?P<t>[^']+)' enum\.$",
        lambda m, _: f"Value {m['v']} is not one of the values allowed here.",
    ),
    _rule(
        r"^Expected value of type '(?P<t>[^']+)' not to include unknown field '(?P<f>[^']+)',"
        r" found: (?P<found>.*)$",
        lambda m, _: f"Unknown input field '{m['f']}', found: {m['found']}",
    ),
    _rule(
        r"^Expected value of type '(?P<t>[^']+)' to include required field '[^']+',"
        r" found: (?P<found>.*)$",
        lambda m, _: f"A required input field is missing, found: {m['found']}",
        always=True,
    ),
    _rule(
        r"^Argument '(?P<t>[^'.@]+)\.(?P<f>[^'(]+)\([^:']+:\)' of type '[^']+' is required,"
        r" but it was not provided\.$",
        lambda m, _: f"Field '{m['f']}' lacks a required argument.",
        always=True,
    ),
    _rule(
        r"^Field '(?P<f>[^']+)' of type '(?P<t>[^']+)' must have a selection of subfields\..*$",
        lambda m, _: f"Field '{m['f']}' must have a selection of subfields.",
    ),
    _rule(
        r"^Field '(?P<f>[^']+)' must not have a selection since type '(?P<t>[^']+)' has no"
        r" subfields\.$",
        lambda m, _: f"Field '{m['f']}' must not have a selection: it has no subfields.",
    ),
    _rule(
        r"^Variable '(?P<v>\$\w+)' of type '(?P<vt>[^']+)' used in position expecting type"
        r" '(?P<t>[^']+)'\.$",
        lambda m, _: f"Variable '{m['v']}' of type '{m['vt']}' cannot be used in this position.",
    ),
    _rule(
        r"^Value cannot represent a (?P<t>\w+): (?P<rest>.*)$",
        lambda m, _: f"Not a valid value: {m['rest']}",
    ),
    _rule(
        r"^(?P<head>Fragment (?:'[^']+' )?cannot be spread here) as objects of type"
        r" '(?P<t>[^']+)' can never be of type '(?P<u>[^']+)'\.$",
        lambda m, _: f"{m['head']}: objects here can never be of type '{m['u']}'.",
    ),
    _rule(
        r"^Enum '(?P<t>[^']+)' cannot represent (?P<rest>.*)$",
        lambda m, _: f"An enum cannot represent {m['rest']}",
    ),
    _rule(
        r"^Expected value of type '(?P<t>[^']+)' to be an object, found: (?P<found>.*)$",
        lambda m, _: f"Expected an input object, found: {m['found']}",
    ),
    _rule(
        r"^Expected (?:a )?value of non-null type '(?P<t>[^']+)' (?P<rest>.*)$",
        lambda m, _: (
            "Expected a value, found null."
            if m["rest"].startswith("not to be None")
            else f"Expected a value {m['rest']}"
        ),
    ),
    _rule(
        r"^Expected value of type '(?P<t>[^']+)'(?P<rest>[,;].*)$",
        lambda m, _: f"Expected a valid value{m['rest']}",
    ),
    _rule(
        r"they return conflicting types '(?P<t>[^']+)' and '(?P<t2>[^']+)'",
        lambda m, _: m.string[: m.start()] + "they return conflicting types" + m.string[m.end() :],
    ),
    _rule(
        r"^Cannot return null for non-nullable field (?P<t>\w+)\.(?P<f>\w+)\.$",
        lambda m, _: f"Cannot return null for non-nullable field '{m['f']}'.",
    ),
    _rule(
        r"^Expected Iterable, but did not find one for field '(?P<t>\w+)\.(?P<f>\w+)'\.$",
        lambda m, _: f"Expected Iterable, but did not find one for field '{m['f']}'.",
    ),
)
# Any quoted name still left in a message: hidden when it is a schema name the client did not
# send (a message of a shape not listed above, e.g. of a newer graphql-core).
_QUOTED_NAME = re.compile(r"'([\[\]!@$]*[_A-Za-z][\w.()\[\]!:@$]*)'")
_IDENTIFIER = re.compile(r"[_A-Za-z]\w*")
_COERCION = re.compile(r"^(Variable '\$\w+' has invalid value(?: at \S+)?: )(.*)$", re.S)
HIDDEN = "'(hidden)'"


class Concealer:
    """Rewrites the messages of GraphQL's own errors (not the application's: those say what
    the client must change) so that they name only what the client sent. Idempotent: errors of
    the validation cache pass through it again on every request."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema_names = schema_names(schema)

    def conceal(self, errors: list[GraphQLError], execution_context: Any) -> None:
        document = getattr(execution_context, "graphql_document", None)
        variables = getattr(execution_context, "variables", None)
        sent: set[str] | None = None
        for error in errors:
            if isinstance(error.original_error, AppError):
                continue
            sent = names_in(document) if sent is None else sent
            coercion = _COERCION.match(error.message)
            if coercion is None:
                error.message = self._rewritten(error.message, sent, error, document)
                continue
            # A variable's own keys and values are the client's, too; only coercion errors
            # may name them (validation errors are cached per document, whatever the variables).
            prefix, inner = coercion.groups()
            known = sent | set(values_in(variables))
            error.message = prefix + self._rewritten(inner, known, error, document)

    def _rewritten(
        self, message: str, known: set[str], error: GraphQLError, document: DocumentNode | None
    ) -> str:
        def hidden(name: str) -> bool:
            parts = _IDENTIFIER.findall(name)
            return any(part in self.schema_names and part not in known for part in parts)

        for rewrite in _REWRITES:
            match = rewrite.pattern.search(message)
            if match is None:
                continue
            names = [name for key, name in match.groupdict().items() if key in ("t", "t2")]
            if rewrite.always or any(hidden(name) for name in names):
                message = rewrite.generic(match, lambda: _where(error, document))
            break
        return _QUOTED_NAME.sub(lambda m: HIDDEN if hidden(m.group(1)) else m.group(0), message)


def _where(error: GraphQLError, document: DocumentNode | None) -> str:
    """Where the error's field sits, in the client's words: inside which field, fragment or
    operation."""
    nodes = error.nodes or []
    if document is None or not nodes:
        return "here"
    return _owners(document).get(id(nodes[0]), "here")


def _owners(document: DocumentNode) -> dict[int, str]:
    owners: dict[int, str] = {}

    def walk(selection_set: SelectionSetNode | None, owner: str) -> None:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                owners[id(selection)] = owner
                walk(selection.selection_set, f"inside '{selection.name.value}'")
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, owner)

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            walk(definition.selection_set, f"at the root of the {definition.operation.value}")
        elif isinstance(definition, FragmentDefinitionNode):
            walk(definition.selection_set, f"in fragment '{definition.name.value}'")
    return owners
