"""With INTROSPECTION=false, no error message names a field, argument, type, enum value or
input field the client did not send (resolvers/concealment.py); with it on, suggestions stay."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType

from app.internals import graphql_schema
from app.settings import Settings
from app.web.asgi import create_app
from resolvers.schema import build_schema
from tests.conftest import Api, error_codes, serving
from tests.live import graphql_socket, uvicorn_serving

SPEC_NAMES = {"Int", "Float", "String", "Boolean", "ID", "skip", "include", "if"}


def _schema_names() -> set[str]:
    names: set[str] = set()
    for name, type_ in graphql_schema(build_schema()).type_map.items():
        if name.startswith("__"):
            continue
        names.add(name)
        if isinstance(type_, GraphQLObjectType):
            for field_name, field in type_.fields.items():
                names.add(field_name)
                names.update(field.args)
        elif isinstance(type_, GraphQLInputObjectType):
            names.update(type_.fields)
        elif isinstance(type_, GraphQLEnumType):
            names.update(type_.values)
    return names - SPEC_NAMES


SCHEMA_NAMES = _schema_names()


def leaked(message: str, query: str, variables: dict[str, Any] | None) -> set[str]:
    """Schema names in the message the client did not send: quoted ones, and type names."""
    sent = set(re.findall(r"\w+", query + orjson.dumps(variables).decode()))
    quoted = {w for token in re.findall(r"'([^']*)'", message) for w in re.findall(r"\w+", token)}
    capitalized = set(re.findall(r"\b[A-Z]\w*", message))
    return {name for name in quoted | capitalized if name in SCHEMA_NAMES and name not in sent}


# (query, variables, what the message still names: what the client sent)
CASES: dict[str, tuple[str, dict[str, Any] | None, str]] = {
    "field at the root": ("{ compnies { totalCount } }", None, "'compnies'"),
    "nested field": ("{ companies { edges { node { nmae } } } }", None, "'nmae' inside 'node'"),
    "argument": ("{ companies(frist: 3) { totalCount } }", None, "'frist' on field 'companies'"),
    "enum value": ("{ companies(orderBy: {field: NAMEE}) { totalCount } }", None, "'NAMEE'"),
    "string for an enum": ('{ companies(orderBy: {field: "NAME"}) { totalCount } }', None, "NAME"),
    "input field": ('{ companies(filter: {serch: "x"}) { totalCount } }', None, "'serch'"),
    "type name": (
        "query($f: CompanyFiltr) { companies(filter: $f) { totalCount } }",
        None,
        "'CompanyFiltr'",
    ),
    "required argument": ("{ company { name } }", None, "'company'"),
    "required input field": (
        'mutation { createCompany(input: {website: "x"}) { id } }',
        None,
        "website",
    ),
    "selection missing": ('{ company(id: "1") }', None, "'company'"),
    "custom scalar": (
        '{ companies(filter: {createdFrom: "nope"}) { totalCount } }',
        None,
        "nope",
    ),
    "fragment type": ("{ companies { ... on Contact { id } } }", None, "'Contact'"),
    "variable position": (
        "query($d: Date) { companies(filter: {createdFrom: $d}) { totalCount } }",
        None,
        "'$d' of type 'Date'",
    ),
    "variable enum value": (
        "query($o: CompanyOrder) { companies(orderBy: $o) { totalCount } }",
        {"o": {"field": "NAMEE"}},
        "'NAMEE'",
    ),
    "variable input field": (
        "query($f: CompanyFilter) { companies(filter: $f) { totalCount } }",
        {"f": {"serch": "x"}},
        "'serch'",
    ),
    "variable required input field": (
        "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }",
        {"i": {"emails": [{"type": "WORK"}]}},
        "'$i'",
    ),
    "variable nested enum": (
        "query($f: CompanyFilter) { companies(filter: $f) { totalCount } }",
        {"f": {"size": ["HUGE"]}},
        "'HUGE'",
    ),
}


@pytest.fixture
async def hidden(settings: Settings, api: Api) -> AsyncIterator[Api]:
    """The tenant through an app with introspection off (the suite's app has it on)."""
    async with serving(settings.model_copy(update={"introspection": False})) as client:
        yield Api(client, api.tokens, api.tenant)


@pytest.mark.parametrize("case", CASES)
async def test_errors_name_only_what_the_client_sent(hidden: Api, case: str) -> None:
    query, variables, named = CASES[case]
    result = await hidden(query, variables)
    # variables that do not coerce are BAD_USER_INPUT, a document that does not validate is
    # GRAPHQL_VALIDATION_FAILED
    codes = set(error_codes(result))
    assert codes and codes <= {"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"}, result
    messages = [error["message"] for error in result["errors"]]
    for message in messages:
        assert "Did you mean" not in message, message
        assert not leaked(message, query, variables), message
    assert any(named in message for message in messages), messages


async def test_subscriptions_over_the_websocket_leak_nothing_either(
    settings: Settings, api: Api
) -> None:
    app = create_app(settings.model_copy(update={"introspection": False}))
    query = "subscription { dealChangd { dealId } }"
    async with (
        app.router.lifespan_context(app),
        uvicorn_serving(app) as host,
        graphql_socket(host) as socket,
    ):
        await socket.init(api.token())
        await socket.subscribe(query)
        refusal = await socket.receive()
    assert refusal["type"] == "error", refusal
    [error] = refusal["payload"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "'dealChangd'" in error["message"]
    assert "Did you mean" not in error["message"]
    assert not leaked(error["message"], query, None), error["message"]


async def test_with_introspection_on_suggestions_stay(api: Api) -> None:
    typo = await api("{ compnies { totalCount } }")
    assert "Did you mean 'companies'" in typo["errors"][0]["message"]
    query, variables, _ = CASES["variable enum value"]
    enum = await api(query, variables)
    assert "Did you mean the enum value 'NAME'" in enum["errors"][0]["message"]
