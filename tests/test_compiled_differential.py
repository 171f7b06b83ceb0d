"""Differential test of the compiled execution path (resolvers/compiled) with generated queries.

hypothesis-graphql writes queries over the root fields the compiler covers, with generated
arguments (literal, or lifted into variables), against one tenant seeded with varied data
(nulls, several owners and roles, primary flags, tags, dates, decimals, won and lost deals).
Each query runs as one caller through the suite's app in verify mode (so `compiled_agrees`
and `MISMATCHES` see it) and through two more apps, one with the compiled path on and one
with it off: their `data` and `errors` must be identical. A difference is a compiler bug,
never a reason to loosen the comparison.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import graphql
import httpx
import pytest
from graphql.utilities import TypeInfo, TypeInfoVisitor, value_from_ast_untyped
from hypothesis import HealthCheck, Phase, given, note, settings, target
from hypothesis import strategies as st
from hypothesis_graphql import nodes, queries
from strawberry.types.field import StrawberryField

import resolvers.compiled.extension as compiled_extension
from app.internals import graphql_schema
from app.settings import Settings
from bench.search_words import vat_id
from resolvers.common.nested import NESTED_PAGE
from resolvers.common.relations import COUNT, LINK_ID, RELATION, ROLLUP
from resolvers.compiled.extension import MISMATCHES
from resolvers.schema import build_schema, schema_sdl
from tests.conftest import DROP, Api, Tokens, record_full_runs, serving

# The root fields whose resolvers return rows the compiler walks (metadata=ROWS).
COMPILABLE_ROOTS = (
    "company",
    "companies",
    "contact",
    "contacts",
    "deal",
    "deals",
    "pipeline",
    "pipelines",
    "defaultPipeline",
)
# root lists with a relation of their filter that the generated filters always carry
# (app.services.common.relation_filters); not `not` or a to-one of the list's own type,
# which would recurse without end
FILTERED_ROOTS = (
    *(("companies", f"CompanyFilter.{r}") for r in ("owners", "contacts", "deals", "ownedByMe")),
    *(("companies", f"CompanyFilter.{r}") for r in ("activities", "contracts", "or")),
    *(("contacts", f"ContactFilter.{r}") for r in ("company", "deals", "activities", "owners")),
    *(("deals", f"DealFilter.{r}") for r in ("owners", "company", "contact", "activities")),
)
EXAMPLES = 300
MIN_COMPILED_SHARE = 0.3
SCHEMA = graphql_schema(build_schema())  # graphql-core's view, for the types of lifted arguments


# --- the data -------------------------------------------------------------------------------


@dataclass
class Seeded:
    ids: dict[str, list[str]] = field(default_factory=dict)  # by kind: "company", "stage", ...
    cursors: dict[str, list[str]] = field(default_factory=dict)  # by "<root field> <order>"

    def add(self, kind: str, value: str) -> str:
        self.ids.setdefault(kind, []).append(value)
        return value

    def all_ids(self) -> list[str]:
        return [value for values in self.ids.values() for value in values]


async def _user(api: Api, seeded: Seeded, token: str) -> str:
    result = await api("{ me { user { id } } }", token=token)
    assert "errors" not in result, result
    return seeded.add("user", result["data"]["me"]["user"]["id"])


async def _created(api: Api, mutation: str, variables: dict[str, Any]) -> str:
    data = await api.data(mutation, variables)
    (created,) = data.values()
    created_id: str = created["id"]
    return created_id


CREATE_COMPANY = """mutation($input: CreateCompanyInput!) { createCompany(input: $input) { id
  emails { id } phones { id } } }"""
CREATE_CONTACT = """mutation($input: CreateContactInput!) { createContact(input: $input) { id
  emails { id } phones { id } } }"""
CREATE_DEAL = "mutation($input: CreateDealInput!) { createDeal(input: $input) { id } }"
CREATE_ACTIVITY = "mutation($input: CreateActivityInput!) { createActivity(input: $input) { id } }"
COMPLETE_ACTIVITY = "mutation($id: ID!) { completeActivity(id: $id) { id } }"
OWNER = {
    "company": "mutation($p: ID!, $u: ID!, $r: OwnerRole!) { addCompanyOwner(companyId: $p, userId: $u, role: $r) { id } }",
    "contact": "mutation($p: ID!, $u: ID!, $r: OwnerRole!) { addContactOwner(contactId: $p, userId: $u, role: $r) { id } }",
    "deal": "mutation($p: ID!, $u: ID!, $r: OwnerRole!) { addDealOwner(dealId: $p, userId: $u, role: $r) { id } }",
}
ROLES = ("OWNER", "MEMBER", "WATCHER")


async def _owners(api: Api, kind: str, parent: str, users: list[str], index: int) -> None:
    """None, one or several owners, with rotating roles."""
    for offset in range(index % 4):
        user = users[(index + offset) % len(users)]
        role = ROLES[(index + offset) % len(ROLES)]
        await api.data(OWNER[kind], {"p": parent, "u": user, "r": role})


def _orders() -> dict[str, tuple[str, list[str]]]:
    """The list root fields: their default order field, and all of them."""
    schema = graphql.build_schema(schema_sdl())
    found = {}
    for root in COMPILABLE_ROOTS:
        argument = schema.query_type.fields[root].args.get("orderBy") if schema.query_type else None
        if argument is not None:
            order = graphql.get_named_type(argument.type)
            assert isinstance(order, graphql.GraphQLInputObjectType)
            field_type = graphql.get_named_type(order.fields["field"].type)
            assert isinstance(field_type, graphql.GraphQLEnumType)
            default = order.fields["field"].ast_node
            assert default is not None and isinstance(default.default_value, graphql.EnumValueNode)
            found[root] = (default.default_value.value, list(field_type.values))
    return found


ORDERS = _orders()


def _add_contact_info(seeded: Seeded, created: dict[str, Any]) -> None:
    for email in created["emails"]:
        seeded.add("email", email["id"])
    for phone in created["phones"]:
        seeded.add("phone", phone["id"])


MERGE = {
    "company": """mutation($s: ID!, $m: [ID!]!, $v: Int!) {
      mergeCompanies(survivorId: $s, mergedIds: $m, expectedVersion: $v) { mergedIds } }""",
    "contact": """mutation($s: ID!, $m: [ID!]!, $v: Int!) {
      mergeContacts(survivorId: $s, mergedIds: $m, expectedVersion: $v) { mergedIds } }""",
}


async def _merges(api: Api, seeded: Seeded, company: str, contact: str) -> None:
    """Merged records (app/services/merges): a chain into `company`, one into `contact`. Their
    ids are seeded too, so `company(id:)` and `contact(id:)` meet them (the survivor answers)
    and survivors list them in `mergedFrom`."""
    older = await _created(api, CREATE_COMPANY, {"input": {"name": "Firma alt", "owners": []}})
    old = await _created(api, CREATE_COMPANY, {"input": {"name": "Firma alt 2", "owners": []}})
    person = await _created(api, CREATE_CONTACT, {"input": {"lastName": "Alt", "owners": []}})
    for kind, survivor, merged in (
        ("company", old, older),
        ("company", company, old),
        ("contact", contact, person),
    ):
        found = await api.data(
            f"query($id: ID!) {{ {kind}(id: $id) {{ version }} }}", {"id": survivor}
        )
        variables = {"s": survivor, "m": [merged], "v": found[kind]["version"]}
        await api.data(MERGE[kind], variables)
        seeded.add(kind, merged)


async def seed_tenant(api: Api) -> Seeded:
    seeded = Seeded()
    users = [await _user(api, seeded, api.token(role)) for role in ("admin", "member", "viewer")]
    # a user without name and e-mail
    anonymous = api.tokens.make(api.tenant, "member", subject="anon", email=DROP, name=DROP)
    users.append(await _user(api, seeded, anonymous))

    industries = [
        seeded.add("industry", await _created(api, q, {}))
        for q in (
            'mutation { createIndustry(input: {name: "Handel"}) { id } }',
            'mutation { createIndustry(input: {name: "IT", color: "#00ff00"}) { id } }',
        )
    ]
    account_type = seeded.add(
        "accountType",
        await _created(
            api,
            'mutation { createAccountType(input: {name: "Kunde", description: "A"}) { id } }',
            {},
        ),
    )
    pipelines = await api.data(
        """mutation { a: createPipeline(input: {name: "Vertrieb", description: "Neu",
          stages: [{name: "Lead", probability: 10}, {name: "Angebot", probability: 60},
                   {name: "Gewonnen", probability: 100, kind: WON},
                   {name: "Verloren", kind: LOST}]}) { id stages { id } }
        b: createPipeline(input: {name: "Service", stages: [{name: "Offen"}]}) { id stages { id } } }"""
    )
    stages = []
    for pipeline in pipelines.values():
        seeded.add("pipeline", pipeline["id"])
        stages += [seeded.add("stage", stage["id"]) for stage in pipeline["stages"]]
    default = await api.data("{ defaultPipeline { id stages { id } } }")
    if default["defaultPipeline"] is not None:
        seeded.add("pipeline", default["defaultPipeline"]["id"])
        stages += [seeded.add("stage", s["id"]) for s in default["defaultPipeline"]["stages"]]

    companies = []
    for index in range(8):
        company: dict[str, Any] = {
            "name": f"Firma {index:02} {'ÄÖÜ' if index % 3 == 0 else ''}".strip(),
            "industryId": industries[index % 2] if index % 3 else None,  # some without
            "accountTypeId": account_type if index % 2 else None,
            "status": ("ACTIVE", "INACTIVE", "BLOCKED")[index % 3],
            "companySize": (None, "MICRO", "SMALL", "LARGE")[index % 4],
            # filters say "a", "vip", "STRASSE", "σοφος" (keys by Unicode case folding)
            "tags": [["a", "b"], [], ["VIP", "Straße"], ["A", "ΣΟΦΟΣ"]][index % 4],
            "website": f"https://f{index}.de" if index % 2 else None,
            "vatId": vat_id(10_000_000 + index) if index % 3 == 1 else None,
            "notes": "Notiz\nzwei Zeilen" if index == 2 else None,
            "billingAddress": {"street": "Weg 1", "zip": "10115", "city": "Berlin"}
            if index % 2
            else None,
            "dataEnrichedAt": "2024-05-06T07:08:09+00:00" if index == 1 else None,
            "emails": [
                {"email": f"info{index}@f.de", "isPrimary": index % 2 == 0},
                {"email": f"buch{index}@f.de", "type": "OTHER"},
            ][: index % 3],
            "phones": [{"phone": f"+49 30 {1000000 + index}", "type": "OFFICE", "isPrimary": True}][
                : index % 2
            ],
            "owners": [],  # _owners decides (none for some), not the creator default
        }
        created = (await api.data(CREATE_COMPANY, {"input": company}))["createCompany"]
        companies.append(seeded.add("company", created["id"]))
        _add_contact_info(seeded, created)
        if len(created["emails"]) == 2:  # move the primary flag
            await api.data(
                "mutation($i: ID!) { setPrimaryEmail(id: $i) { email { id } } }",
                {"i": created["emails"][1]["id"]},
            )
        await _owners(api, "company", created["id"], users, index)

    contacts = []
    for index in range(12):
        contact: dict[str, Any] = {
            "lastName": f"Kontakt {index:02}",
            "firstName": None if index % 4 == 0 else f"Vor{index}",
            "companyId": None if index % 5 == 0 else companies[index % len(companies)],
            "salutation": ("Frau", "Herr", None)[index % 3],
            "department": "Einkauf" if index % 3 == 0 else None,
            "status": ("ACTIVE", "INACTIVE")[index % 2],
            "birthday": (date(1970, 1, 1) + timedelta(days=997 * index)).isoformat()
            if index % 2
            else None,
            "source": (None, "WEBSITE", "REFERRAL", "TRADE_FAIR")[index % 4],
            "tags": [[], ["x", "straße"], ["X", "y", "Σοφος"]][index % 3],
            "emails": [
                {"email": f"k{index}@x.de", "isPrimary": True, "type": "PERSONAL"},
                {"email": f"k{index}@y.de"},
            ][: index % 3],
            "phones": [
                {"phone": f"+49 170 {1000000 + index}", "type": "MOBILE"},
                {"phone": f"+49 30 9{100000 + index}", "isPrimary": True},
            ][: (index + 1) % 3],
            "owners": [],
        }
        created = (await api.data(CREATE_CONTACT, {"input": contact}))["createContact"]
        contacts.append(seeded.add("contact", created["id"]))
        _add_contact_info(seeded, created)
        await _owners(api, "contact", created["id"], users, index + 1)

    pipeline_ids = [p["id"] for p in pipelines.values()]
    for index in range(14):
        deal: dict[str, Any] = {
            "title": f"Deal {index:02}",
            "value": ("1200.50", "0", "99999.99", "0.01", None)[index % 5],
            "currency": ("EUR", "USD", None)[index % 3],
            "companyId": None if index % 4 == 3 else companies[index % len(companies)],
            "contactId": None if index % 3 == 0 else contacts[index % len(contacts)],
            "expectedCloseDate": (date(2025, 1, 31) + timedelta(days=29 * index)).isoformat()
            if index % 2
            else None,
            "owners": [{"userId": users[index % len(users)], "role": ROLES[index % 3]}][
                : index % 2
            ],
        }
        if index % 7 == 5:
            deal.update(status="LOST", lostReason=("PRICE", "OTHER")[index % 2])
            deal["lostReasonText"] = "zu teuer" if deal["lostReason"] == "OTHER" else None
        elif index % 7 == 6:
            deal["status"] = "WON"
        elif index % 3 == 1:
            deal["pipelineId"] = pipeline_ids[index % 2]
        deal = {k: v for k, v in deal.items() if v is not None}
        deal_id = seeded.add("deal", await _created(api, CREATE_DEAL, {"input": deal}))
        await _owners(api, "deal", deal_id, users, index + 2)

    # activities for the roll-ups (of companies, contacts or both, open or completed, with and
    # without a due date) and the relation filters (activities.some, assignedToMe)
    deal_ids = seeded.ids["deal"]
    for index in range(10):
        due = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=17 * index, minutes=index)
        activity: dict[str, Any] = {
            "type": ("CALL", "MEETING", "TASK")[index % 3],
            "subject": f"Aufgabe {index}",
            "companyId": companies[index % len(companies)] if index % 3 else None,
            "contactId": contacts[index % len(contacts)] if index % 3 != 1 else None,
            "dueAt": due.isoformat() if index % 4 else None,
            "dealId": deal_ids[(index * 2) % len(deal_ids)] if index % 2 else None,
            "assigneeId": users[index % len(users)] if index % 4 else None,
        }
        activity = {k: v for k, v in activity.items() if v is not None}
        activity_id = seeded.add(
            "activity", await _created(api, CREATE_ACTIVITY, {"input": activity})
        )
        if index % 2:
            await api.data(COMPLETE_ACTIVITY, {"id": activity_id})

    # The trash: records moved there stay among the seeded ids (a lookup of one is NOT_FOUND)
    # and keep the links that point at them (read as null), on both paths.
    for kind, index in (("Company", 1), ("Contact", 2), ("Deal", 4), ("Activity", 3)):
        record_id = seeded.ids[kind.lower()][index]
        await api.data(f"mutation($id: ID!) {{ delete{kind}(id: $id) }}", {"id": record_id})
    await _merges(api, seeded, companies[0], contacts[1])

    for root, (_, orders) in ORDERS.items():
        for order in orders:
            page = await api.data(
                f"{{ {root}(orderBy: {{field: {order}}}) {{ edges {{ cursor }} }} }}"
            )
            seeded.cursors[f"{root} {order}"] = [edge["cursor"] for edge in page[root]["edges"]]
    assert stages
    return seeded


# --- the queries ----------------------------------------------------------------------------


def _string(value: Any) -> graphql.StringValueNode:
    return graphql.StringValueNode(value=str(value))


# IDs and strings are generated as placeholders, "@@<n>", that `resolve_placeholders` replaces
# by the n-th value that fits where they stand: `company(id:)` gets a company's id, `stageId`
# a stage's, `after` and `before` a cursor of that list; so most arguments hit the data.
PLACEHOLDER = st.integers(0, 1000).map(lambda n: f"@@{n}")
ID_KINDS = {
    "company": "company",
    "companyId": "company",
    "contact": "contact",
    "contactId": "contact",
    "deal": "deal",
    "pipeline": "pipeline",
    "pipelineId": "pipeline",
    "stageId": "stage",
    "ownerId": "user",
    "userId": "user",
    "assigneeId": "user",
    "dealId": "deal",
    "industryId": "industry",
    "accountTypeId": "accountType",
}
WORDS = [
    *("Firma", "firma 0", "0", "a", "vip", "x", "Kontakt 0", "Deal", "ÄÖÜ", "Einkauf", "f.de"),
    *("STRASSE", "σοφος"),  # tags: keys by Unicode case folding (app.services.common.tags)
]


# a filter across relations in a generated query (app.services.common.relation_filters)
RELATION_FILTER = re.compile(
    r"\b(some|none|every|and|or|not|ownedByMe|assignedToMe|company|contact|deals|contacts|"
    r"owners|activities|contracts)\s*:"
)
CURRENCIES = ["EUR", "USD", "CHF", "eur"]
SOME_DATE = st.dates(date(1965, 1, 1), date(2030, 12, 31)).map(date.isoformat)
SOME_DATETIME = st.datetimes(datetime(2020, 1, 1), datetime(2031, 1, 1), timezones=st.just(UTC))
SOME_DECIMAL = st.decimals("-10", "100000", places=2).map(str)
# Values that hit the data: every query of these is answered without an error, mostly.
CLEAN: dict[str, st.SearchStrategy[graphql.ValueNode]] = {
    "ID": PLACEHOLDER.map(_string),
    "Int": st.integers(0, 12).map(nodes.Int),
    "String": PLACEHOLDER.map(_string),
    "Date": SOME_DATE.map(_string),
    "DateTime": SOME_DATETIME.map(datetime.isoformat).map(_string),
    "Decimal": SOME_DECIMAL.map(_string),
}
# ... and now and then values the API refuses, so the executor answers, with its errors.
MESSY: dict[str, st.SearchStrategy[graphql.ValueNode]] = {
    "ID": st.one_of(
        *[PLACEHOLDER.map(_string)] * 8,
        st.uuids().map(_string),  # well formed, found nowhere
        st.text(max_size=8).map(_string),  # not an id
        st.integers(0, 10**6).map(nodes.Int),
    ),
    "Int": st.one_of(
        *[st.integers(0, 12)] * 5,
        st.integers(-3, 260),  # around the limits: 0..200 for a page
        st.integers(-(2**31), 2**31 - 1),
    ).map(nodes.Int),
    "String": st.one_of(*[PLACEHOLDER] * 3, st.text(max_size=10)).map(_string),
    "Date": st.one_of(SOME_DATE, st.just("31.12.2024")).map(_string),
    "DateTime": st.one_of(SOME_DATETIME.map(datetime.isoformat), st.just("gestern")).map(_string),
    "Decimal": st.one_of(SOME_DECIMAL, st.sampled_from(["1e3", "abc", "NaN"])).map(_string),
}


@functools.cache
def generated(
    roots: tuple[str, ...], clean: bool, filtered: str | None = None
) -> st.SearchStrategy[str]:
    """Queries of these root fields: with clean values over the fields that are plain or
    declared relations (any other field sends the operation to the executor), with messy
    values over the whole schema; `filtered` ("CompanyFilter.deals"): the root list always
    with its `filter`, and that filter always with this relation."""
    sdl = sdl_with_roots(roots, plain_only=clean, filtered=filtered)
    return queries(sdl, custom_scalars=CLEAN if clean else MESSY)


def _family(clean: bool) -> st.SearchStrategy[str]:
    return st.one_of(
        generated(COMPILABLE_ROOTS, clean),
        st.sampled_from(COMPILABLE_ROOTS).flatmap(lambda root: generated((root,), clean)),
    )


def query_strategy() -> st.SearchStrategy[str]:
    """Queries over all the compilable root fields, and of one of them (a failing root field
    sends the whole operation to the executor), clean or messy; and lists that always carry a
    filter, whose relation paths, quantifiers and combinators a query over the whole schema
    reaches too rarely (their share moved with every change to the schema)."""
    filtered_lists = st.sampled_from(FILTERED_ROOTS).flatmap(
        lambda pair: generated((pair[0],), clean=True, filtered=pair[1])
    )
    # Filtered lists thrice: three of five queries (the share of relation filters fell below a
    # tenth when the trash's types joined the schema, and again when nested lists became
    # connections, which the generated queries now walk on the compiled path too).
    return st.one_of(
        _family(clean=True), _family(clean=False), filtered_lists, filtered_lists, filtered_lists
    )


def _plain(field: graphql.GraphQLField) -> bool:
    """Whether a field is a plain attribute or a declared relation (resolvers.common.relations,
    resolvers.common.nested)."""
    found = (field.extensions or {}).get("strawberry-definition")
    if not isinstance(found, StrawberryField):
        return False
    keys = (RELATION, NESTED_PAGE, COUNT, ROLLUP, LINK_ID)
    declared = any(found.metadata.get(key) for key in keys)
    return bool(declared) or (found.base_resolver is None and not found.extensions)


def sdl_with_roots(roots: tuple[str, ...], plain_only: bool, filtered: str | None = None) -> str:
    """The schema with only these root query fields, and maybe only the plain fields below them.
    (hypothesis-graphql sizes its queries for the whole Query type: with `fields=` alone, one
    root field would get small queries.)"""
    document = graphql.parse(schema_sdl())
    definitions = []
    for definition in document.definitions:
        if isinstance(definition, graphql.ObjectTypeDefinitionNode):
            name = definition.name.value
            fields = tuple(definition.fields or ())
            if name == "Query":
                fields = tuple(f for f in fields if f.name.value in roots)
                if filtered:
                    fields = tuple(_with_filter_required(f) for f in fields)
            elif plain_only and isinstance(
                found := SCHEMA.type_map[name], graphql.GraphQLObjectType
            ):
                fields = tuple(f for f in fields if _plain(found.fields[f.name.value])) or fields
            definition = dataclasses.replace(definition, fields=fields)
        elif filtered and isinstance(definition, graphql.InputObjectTypeDefinitionNode):
            definition = _with_relation_required(definition, filtered)
        definitions.append(definition)
    return graphql.print_ast(dataclasses.replace(document, definitions=tuple(definitions)))


def _with_relation_required(
    definition: graphql.InputObjectTypeDefinitionNode, relation: str
) -> graphql.InputObjectTypeDefinitionNode:
    """The filter input `Type.field` names with that field non-null (so always sent)."""
    type_name, field_name = relation.split(".")
    if definition.name.value != type_name:
        return definition
    fields = tuple(
        dataclasses.replace(f, type=graphql.NonNullTypeNode(type=f.type), default_value=None)
        if f.name.value == field_name
        else f
        for f in definition.fields or ()
    )
    return dataclasses.replace(definition, fields=fields)


def _with_filter_required(definition: graphql.FieldDefinitionNode) -> graphql.FieldDefinitionNode:
    """The root field with its `filter` argument non-null: hypothesis-graphql always sends a
    required argument (the real schema's type stays nullable; the value is the same)."""
    arguments = tuple(
        dataclasses.replace(a, type=graphql.NonNullTypeNode(type=a.type), default_value=None)
        if a.name.value == "filter" and not isinstance(a.type, graphql.NonNullTypeNode)
        else a
        for a in definition.arguments or ()
    )
    return dataclasses.replace(definition, arguments=arguments)


def _order_of(ancestors: list[Any]) -> str | None:
    """The order field a list field asks for (its literal `orderBy`), or its default one."""
    list_field = next(a for a in reversed(ancestors) if isinstance(a, graphql.FieldNode))
    if list_field.name.value not in ORDERS:
        return None
    order = ORDERS[list_field.name.value][0]
    for argument in list_field.arguments or ():
        if argument.name.value == "orderBy" and isinstance(argument.value, graphql.ObjectValueNode):
            for item in argument.value.fields:
                if item.name.value == "field" and isinstance(item.value, graphql.EnumValueNode):
                    order = item.value.value
    return order


def resolve_placeholders(query: str, seeded: Seeded) -> str:
    """The query with each placeholder replaced by a value of the seeded tenant."""
    all_ids = seeded.all_ids()
    all_cursors = [c for cursors in seeded.cursors.values() for c in cursors]

    def _named(ancestors: list[Any], kind: type[Any] | tuple[type[Any], ...]) -> str | None:
        for ancestor in reversed(ancestors):
            if isinstance(ancestor, kind):
                name: str = ancestor.name.value
                return name
        return None

    class Resolve(graphql.Visitor):
        def enter_string_value(
            self, node: graphql.StringValueNode, _key: Any, parent: Any, _path: Any, ancestors: Any
        ) -> Any:
            placeholder = re.fullmatch(r"@@(\d+)", node.value)
            if placeholder is None:
                return None
            index = int(placeholder[1])
            ancestors = [*ancestors, parent]
            argument = _named(ancestors, (graphql.ArgumentNode, graphql.ObjectFieldNode))
            root = _named(ancestors, graphql.FieldNode) or ""
            pool = WORDS
            if argument in ("after", "before"):
                pool = seeded.cursors.get(f"{root} {_order_of(ancestors)}") or all_cursors
            elif argument == "id" and root in ID_KINDS:
                pool = seeded.ids[ID_KINDS[root]]
            elif argument in ID_KINDS:
                pool = seeded.ids[ID_KINDS[argument]]
            elif argument == "id" or (argument or "").endswith("Id"):
                pool = all_ids
            elif argument == "currency":  # an order's: the open deal value's currency
                pool = CURRENCIES
            return _string(pool[index % len(pool)])

    return graphql.print_ast(graphql.visit(graphql.parse(query), Resolve()))


def lift_arguments(query: str) -> tuple[str, dict[str, Any]]:
    """The same operation with every argument value passed as a variable of the argument's
    type (the compiled path coerces variables itself)."""
    document = graphql.parse(query)
    type_info = TypeInfo(SCHEMA)
    variables: dict[str, Any] = {}
    definitions: list[graphql.VariableDefinitionNode] = []

    class Lift(graphql.Visitor):
        def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> Any:
            argument = type_info.get_argument()
            if argument is None or isinstance(node.value, graphql.VariableNode):
                return None
            name = f"v{len(definitions)}"
            variables[name] = value_from_ast_untyped(node.value)
            definitions.append(
                graphql.VariableDefinitionNode(
                    variable=graphql.VariableNode(name=graphql.NameNode(value=name)),
                    type=graphql.parse_type(str(argument.type)),
                    directives=(),
                )
            )
            return graphql.ArgumentNode(
                name=node.name, value=graphql.VariableNode(name=graphql.NameNode(value=name))
            )

    lifted = graphql.visit(document, TypeInfoVisitor(type_info, Lift()))
    (operation,) = lifted.definitions
    assert isinstance(operation, graphql.OperationDefinitionNode)
    operation = dataclasses.replace(operation, variable_definitions=tuple(definitions))
    return graphql.print_ast(operation), variables


def paging_features(query: str) -> set[str]:
    """Which of `last`, `before` (on a root list) and a nested list's `orderBy` a query uses."""
    found: set[str] = set()

    class Find(graphql.Visitor):
        def enter_argument(
            self, node: graphql.ArgumentNode, _key: Any, _parent: Any, _path: Any, ancestors: Any
        ) -> None:
            depth = sum(isinstance(a, graphql.FieldNode) for a in ancestors)
            name = node.name.value
            if isinstance(node.value, graphql.NullValueNode):
                return
            if name in ("last", "before") and depth == 1:
                found.add(name)
            elif name == "orderBy" and depth > 1:
                found.add("nested orderBy")

    graphql.visit(graphql.parse(query), Find())
    return found


def root_fields(query: str) -> set[str]:
    (operation,) = graphql.parse(query).definitions
    assert isinstance(operation, graphql.OperationDefinitionNode)
    selections = operation.selection_set.selections
    return {s.name.value for s in selections if isinstance(s, graphql.FieldNode)}


# --- running both ways ----------------------------------------------------------------------


def nullable_roots(query: str) -> set[str]:
    """The response keys of the query's nullable root fields."""
    keys = set()
    for definition in graphql.parse(query).definitions:
        if isinstance(definition, graphql.OperationDefinitionNode):
            for node in definition.selection_set.selections:
                if isinstance(node, graphql.FieldNode) and SCHEMA.query_type is not None:
                    found = SCHEMA.query_type.fields.get(node.name.value)
                    if found is not None and not isinstance(found.type, graphql.GraphQLNonNull):
                        keys.add(node.alias.value if node.alias else node.name.value)
    return keys


def normalized(
    response: httpx.Response, incidental: frozenset[str] | set[str] = frozenset()
) -> Any:
    """The response as compared: status, data and errors, without the per-request id.

    With `data` null (a non-null root field failed), graphql-core stops at that failure: the
    errors of other root fields are there only if they came first, a race of the executor
    alone (the same request, compiled path off, answered with one error and with two). Then
    the errors of the nullable root fields (`incidental`) are not compared."""
    body = response.json()
    errors = body.get("errors") or ()
    if errors and body.get("data", ()) is None:
        errors = [e for e in errors if not (e.get("path") and e["path"][0] in incidental)]
        body["errors"] = errors
    for error in errors:
        error.get("extensions", {}).pop("requestId", None)
    if errors:  # in the order the resolvers failed: root fields resolve concurrently
        body["errors"] = sorted(errors, key=lambda error: json.dumps(error, sort_keys=True))
    return {"status": response.status_code, **body}


@dataclass
class Differential:
    api: Api
    seeded: Seeded
    on: httpx.AsyncClient
    off: httpx.AsyncClient
    callers: dict[str, str]
    strategy: st.SearchStrategy[str]
    compiled: list[bool] = field(default_factory=list)  # run_plan answered, per "on" run
    full_runs: list[str] = field(default_factory=list)  # went strawberry's full way
    examples: int = 0
    compiled_examples: int = 0  # answered from a compiled plan ("on")
    refused_examples: int = 0  # answered with errors
    # how often the generated queries page backward and order nested lists, by what
    paging_features: dict[str, int] = field(default_factory=dict)
    relation_examples: int = 0  # with a relation filter (quantifier, nesting, combinator)


@pytest.fixture
async def differential(
    api: Api, tokens: Tokens, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Differential]:
    seeded = await seed_tenant(api)
    stranger = tokens.make(f"t-{uuid.uuid4().hex[:12]}", "admin", subject="stranger")
    callers = {
        "admin": api.token("admin"),
        "member": api.token("member"),
        "viewer": api.token("viewer"),
        "another tenant's admin": stranger,
    }
    async with (
        serving(settings.model_copy(update={"compiled_execution": "on"})) as on,
        serving(settings.model_copy(update={"compiled_execution": "off"})) as off,
    ):
        found = Differential(api, seeded, on, off, callers, query_strategy())
        run_plan: Callable[..., Awaitable[dict[str, Any]]] = compiled_extension.run_plan

        async def recording(*args: Any, **kwargs: Any) -> dict[str, Any]:
            data = await run_plan(*args, **kwargs)  # raises when the executor must answer
            found.compiled.append(True)
            return data

        monkeypatch.setattr(compiled_extension, "run_plan", recording)
        found.full_runs = record_full_runs(monkeypatch)
        yield found


async def _responses(
    differential: Differential, body: dict[str, Any], headers: dict[str, str]
) -> tuple[list[httpx.Response], httpx.Response, bool]:
    """The query through the verify app and twice through the compiled path ("on": a document
    answered from its plan once is admitted, and the second run skips strawberry's full way),
    then the executor ("off"); and whether "on" answered from a compiled plan."""
    known = len(MISMATCHES)
    verified = await differential.api.client.post("/graphql", json=body, headers=headers)
    assert len(MISMATCHES) == known, f"verify mode found a mismatch: {MISMATCHES[known:]}"
    differential.compiled.clear()
    on = await differential.on.post("/graphql", json=body, headers=headers)
    answered_compiled = bool(differential.compiled)
    differential.full_runs.clear()
    admitted = await differential.on.post("/graphql", json=body, headers=headers)
    if answered_compiled and "errors" not in on.json():  # then admitted: no full way again
        assert not differential.full_runs, "an admitted document went the full way"
    off = await differential.off.post("/graphql", json=body, headers=headers)
    return [verified, on, admitted], off, answered_compiled


async def test_generated_queries_agree_on_both_paths(differential: Differential) -> None:
    loop = asyncio.get_running_loop()
    seeded = differential.seeded

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,  # the same queries on every run: CI stays deterministic
        # no explain phase: it traces every line while it reruns the failing example, which
        # made a failure take more than 15 minutes to report; shrinking still names the query
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(data=st.data())
    def example(data: st.DataObject) -> None:
        query = resolve_placeholders(data.draw(differential.strategy, label="query"), seeded)
        note(f"query: {query}")
        features = paging_features(query)  # before its arguments may become variables
        relation_filtered = bool(RELATION_FILTER.search(query))
        variables: dict[str, Any] = {}
        if data.draw(st.booleans(), label="arguments as variables"):
            query, variables = lift_arguments(query)
            note(f"lifted: {query}\nvariables: {variables}")
        caller = data.draw(st.sampled_from(sorted(differential.callers)), label="caller")
        body = {"query": query, "variables": variables}
        headers = {"authorization": f"Bearer {differential.callers[caller]}"}
        # hypothesis drives from a thread; the requests run on the app's loop
        running = asyncio.run_coroutine_threadsafe(_responses(differential, body, headers), loop)
        (verified, on, admitted), off, answered_compiled = running.result(timeout=120)
        differential.examples += 1
        differential.compiled_examples += answered_compiled
        differential.refused_examples += "errors" in off.json()
        if answered_compiled:
            for feature in features:
                counts = differential.paging_features
                counts[feature] = counts.get(feature, 0) + 1
        differential.relation_examples += relation_filtered
        note(f"on ({'compiled' if answered_compiled else 'executor'}): {on.text}")
        note(f"off: {off.text}")
        incidental = nullable_roots(query)
        expected = normalized(off, incidental)
        assert normalized(on, incidental) == expected
        assert normalized(admitted, incidental) == expected
        assert normalized(verified, incidental) == expected
        # steer the search towards larger queries that the compiled path answers, per root
        size = float(query.count("{")) if answered_compiled else 0.0
        for root in root_fields(query):
            target(size, label=f"compiled size with {root}")

    await asyncio.to_thread(example)
    # worth its time only if a fair share of what it generates is answered by the compiled path
    # (and errors were compared too)
    examples = differential.examples
    share = differential.compiled_examples / max(examples, 1)
    print(
        f"{examples} generated queries: {differential.compiled_examples} answered from a compiled"
        f" plan, {differential.refused_examples} with errors,"
        f" {differential.relation_examples} with relation filters"
    )
    print(f"answered from a compiled plan, with: {differential.paging_features}")
    assert examples >= EXAMPLES // 2
    assert share >= MIN_COMPILED_SHARE
    # backward pages and nested orders were compared, answered by both paths
    assert set(differential.paging_features) == {"last", "before", "nested orderBy"}
    assert differential.refused_examples >= examples // 20
    assert differential.relation_examples >= examples // 10


TAG_FILTERS = """query($tag: String) {
  companies(filter: {tag: $tag}) { totalCount edges { node { name tags } } }
  contacts(filter: {tag: $tag}) { totalCount edges { node { lastName tags } } } }"""


async def test_tag_filters_agree_on_both_paths(differential: Differential) -> None:
    """Every spelling of the seeded tags (keys by Unicode case folding, app.services.common.tags)
    finds the same records on both paths, and finds some: the generated queries reach these
    words only now and then."""
    headers = {"authorization": f"Bearer {differential.callers['member']}"}
    for tag in ("STRASSE", "σοφος", "ΣΟΦΟΣ", "straße", "VIP", "a", "Y"):
        body = {"query": TAG_FILTERS, "variables": {"tag": tag}}
        (verified, on, admitted), off, answered_compiled = await _responses(
            differential, body, headers
        )
        assert answered_compiled, tag
        expected = normalized(off)
        assert [normalized(r) for r in (verified, on, admitted)] == [expected] * 3, tag
        counts = [expected["data"][root]["totalCount"] for root in ("companies", "contacts")]
        assert counts[0] + counts[1] > 0, tag


RELATION_FILTERS = """query($c: CompanyFilter, $k: ContactFilter, $d: DealFilter) {
  companies(filter: $c) { totalCount edges { node { name } } }
  contacts(filter: $k) { totalCount edges { node { lastName } } }
  deals(filter: $d) { totalCount edges { node { title } } } }"""
WON = {"status": ["WON"]}
RELATION_CASES: list[dict[str, Any]] = [
    {"c": {"deals": {"some": WON}}, "k": {"deals": {"none": WON}}, "d": {"company": {}}},
    {
        "c": {"deals": {"every": {"closedAfter": "2020-01-01T00:00:00+00:00"}}},
        "k": {"company": {"size": ["SMALL", "LARGE"]}},
        "d": {"owners": {"some": {"role": ["OWNER"]}}},
    },
    {
        "c": {
            "ownedByMe": True,
            "or": [{"contacts": {"some": {}}}, {"not": {"status": ["ACTIVE"]}}],
        },
        "k": {"company": {"deals": {"some": {**WON, "ownedByMe": False}}}},
        "d": {"and": [{"contact": {"ownedByMe": True}}, {"not": {"activities": {"none": {}}}}]},
    },
    {
        "c": {
            "activities": {"some": {"assignedToMe": True}},
            "owners": {"every": {"role": ["OWNER"]}},
        },
        "k": {"ownedByMe": False, "activities": {"every": {"deal": {"status": ["OPEN"]}}}},
        "d": {"not": {"company": {"ownedByMe": True}}, "owners": {"none": {}}},
    },
]


async def test_relation_filters_agree_on_both_paths(differential: Differential) -> None:
    """Quantifiers, to-one nesting, combinators and the caller's shortcuts, answered by the
    compiled path and the executor alike, for each kind of caller; between them they find
    records and leave records out (the generated queries reach these filters with random
    values, which mostly find nothing)."""
    found: set[int] = set()
    left_out: set[int] = set()
    for caller in ("admin", "member"):
        headers = {"authorization": f"Bearer {differential.callers[caller]}"}
        for index, variables in enumerate(RELATION_CASES):
            body = {"query": RELATION_FILTERS, "variables": variables}
            (verified, on, admitted), off, answered_compiled = await _responses(
                differential, body, headers
            )
            assert answered_compiled, variables
            expected = normalized(off)
            assert "errors" not in expected, expected
            assert [normalized(r) for r in (verified, on, admitted)] == [expected] * 3, variables
            for root, total in (("companies", 8), ("contacts", 12), ("deals", 14)):
                count = expected["data"][root]["totalCount"]
                found |= {index} if count else set()
                left_out |= {index} if count < total else set()
    assert found == left_out == set(range(len(RELATION_CASES)))


SEARCH_FILTERS = """query($search: String) {
  companies(filter: {search: $search}, first: 5) {
    totalCount edges { cursor node { name } } pageInfo { hasNextPage endCursor } }
  contacts(filter: {search: $search}) { totalCount edges { node { lastName } } }
  deals(filter: {search: $search}) { totalCount edges { node { title } } } }"""


async def test_search_filters_agree_on_both_paths(differential: Differential) -> None:
    """A list's filter.search is the search matcher (app.services.search), an id semi-join
    on the view search_entry, in the compiled page statements as in the executor's: the
    same records, and some, for umlauts, typos, prefixes, e-mail parts and words."""
    headers = {"authorization": f"Bearer {differential.callers['member']}"}
    found = 0
    for text in ("firma", "FIRMA 0", "aou", "fima", "f.de", "info1", "berlin", "deal", "   "):
        body = {"query": SEARCH_FILTERS, "variables": {"search": text}}
        (verified, on, admitted), off, answered_compiled = await _responses(
            differential, body, headers
        )
        assert answered_compiled, text
        expected = normalized(off)
        assert [normalized(r) for r in (verified, on, admitted)] == [expected] * 3, text
        found += sum(expected["data"][root]["totalCount"] for root in ("companies", "contacts"))
    assert found > 0


POSSIBLE_DUPLICATES = """query { companies(first: 20) { edges { node { name
  phones { phone e164 }
  possibleDuplicates(first: 3) { score strength matches { rule value candidateValue similarity }
    record { ... on Company { id name } } } } } }
  contacts(first: 20) { edges { node { lastName possibleDuplicates { score } } } } }"""
PHONES_E164 = """query { companies(first: 20) { edges { node { name phones { phone e164 } } } } }"""


async def test_possible_duplicates_are_answered_by_the_executor_and_agree(
    differential: Differential,
) -> None:
    """possibleDuplicates is a field with a resolver (a duplicate check per record): the
    compiled path declines every document that asks for it (NotCompilable, the executor
    answers), with the same answer; the phones' e164, a plain column, it compiles."""
    headers = {"authorization": f"Bearer {differential.callers['member']}"}
    body = {"query": POSSIBLE_DUPLICATES}
    (verified, on, admitted), off, answered_compiled = await _responses(differential, body, headers)
    assert not answered_compiled
    expected = normalized(off)
    assert "errors" not in expected, expected
    assert [normalized(r) for r in (verified, on, admitted)] == [expected] * 3
    assert any(
        edge["node"]["possibleDuplicates"] for edge in expected["data"]["companies"]["edges"]
    )
    body = {"query": PHONES_E164}
    (verified, on, admitted), off, answered_compiled = await _responses(differential, body, headers)
    assert answered_compiled
    expected = normalized(off)
    assert [normalized(r) for r in (verified, on, admitted)] == [expected] * 3
    phones = [p for e in expected["data"]["companies"]["edges"] for p in e["node"]["phones"]]
    assert any(p["e164"] for p in phones), phones


NODES = """query($ids: [ID!]!, $one: ID!) {
  nodes(ids: $ids) { __typename id
    ... on Company { name tags industry { name } emails { email } owners { role user { id } } }
    ... on Contact { lastName company { name } }
    ... on Deal { title value stage { name } }
    ... on Stage { name kind }
    ... on Email { email isPrimary } }
  node(id: $one) { id ... on Company { name contacts { edges { node { lastName } } } } }
  company(id: $one) { name } }"""


async def test_node_roots_are_answered_by_the_executor_and_agree(
    differential: Differential,
) -> None:
    """node and nodes return the Node interface: the compiled path declines every document
    that asks for them (no ROWS metadata at the root: NotCompilable), the executor answers,
    with the same answer on every path."""
    headers = {"authorization": f"Bearer {differential.callers['member']}"}
    seeded = differential.seeded.ids
    ids = [
        *seeded["company"][:3], *seeded["contact"][:2], *seeded["deal"][:2], seeded["stage"][0],
        seeded["email"][0], str(uuid.uuid4()), seeded["company"][0],
    ]  # fmt: skip
    body = {"query": NODES, "variables": {"ids": ids, "one": seeded["company"][1]}}
    (verified, on, admitted), off, answered_compiled = await _responses(differential, body, headers)
    assert not answered_compiled
    expected = normalized(off)
    assert [normalized(r) for r in (verified, on, admitted)] == [expected] * 3
    kinds = ["Company"] * 3 + ["Contact"] * 2 + ["Deal"] * 2 + ["Stage", "Email", None, "Company"]
    answered = expected["data"]["nodes"]
    assert [n and n["__typename"] for n in answered] == [
        n and k for n, k in zip(answered, kinds, strict=True)
    ]
    assert sum(n is not None for n in answered) >= 8, answered
    # the seed trashes records: a trashed company is null for node, NOT_FOUND for company
    node, company = expected["data"]["node"], expected["data"]["company"]
    assert (node is None) == (company is None), expected
    assert error_paths(expected) == ([] if node else [["company"]]), expected
    assert node is None or node["name"] == company["name"]


def error_paths(response: dict[str, Any]) -> list[Any]:
    return [e["path"] for e in response.get("errors", ()) if e["extensions"]["code"] == "NOT_FOUND"]


NESTED_CONNECTIONS = """query($first: Int, $after: String, $last: Int, $before: String,
                          $order: ContactOrder, $deals: DealOrder) {
  companies(first: 20) { totalCount edges { node { name
    contacts(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
      totalCount
      edges { cursor node { lastName company { name }
        deals(first: 2) { totalCount edges { cursor node { title stage { name } } } } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
    deals(first: 3, orderBy: $deals) { ...Page }
    activities(first: 2) { ... on ActivityConnection { totalCount } edges { node { subject } } }
    contracts { totalCount edges { node { title } } } } } }
  deals(first: 20) { edges { node { title activities(last: 1) { edges { cursor node { subject } }
    pageInfo { hasPreviousPage } } } } } }
fragment Page on DealConnection { edges { cursor node { title value } } pageInfo { endCursor } }"""


async def test_nested_connections_agree_on_both_paths(differential: Differential) -> None:
    """Nested connections (resolvers.common.nested): first/after, last/before, empty pages,
    totalCount (in a fragment too) and pageInfo, every order of the top-level list, answered
    from the compiled plan and by the executor alike; a trashed contact is on neither."""
    headers = {"authorization": f"Bearer {differential.callers['member']}"}
    body: dict[str, Any] = {"query": NESTED_CONNECTIONS, "variables": {}}
    (verified, on, admitted), off, answered_compiled = await _responses(differential, body, headers)
    assert answered_compiled
    expected = normalized(off)
    assert [normalized(r) for r in (verified, on, admitted)] == [expected] * 3
    companies = [e["node"] for e in expected["data"]["companies"]["edges"]]
    pages = [c["contacts"] for c in companies if c["contacts"]["totalCount"] > 1]
    assert pages, companies  # some company has several contacts
    names = {e["node"]["lastName"] for c in companies for e in c["contacts"]["edges"]}
    assert "Kontakt 02" not in names and "Kontakt 03" in names  # the trashed one is hidden
    cursor = pages[0]["edges"][0]["cursor"]
    cases: list[dict[str, Any]] = [
        {"first": 1},
        {"first": 1, "after": cursor},
        {"first": 0},
        {"last": 1},
        {"last": 2, "before": pages[0]["pageInfo"]["endCursor"]},
        {"order": {"field": "CREATED_AT", "direction": "DESC"}, "deals": {"field": "VALUE"}},
        {"order": {"field": "FIRST_NAME"}, "deals": {"field": "EXPECTED_CLOSE_DATE"}},
        {"order": {"field": "OPEN_DEAL_VALUE", "currency": "USD", "direction": "DESC"}},
        {"order": {"field": "LAST_ACTIVITY_AT"}, "deals": {"field": "STAGE"}},
    ]
    for variables in cases:
        body = {"query": NESTED_CONNECTIONS, "variables": variables}
        (verified, on, admitted), off, answered_compiled = await _responses(
            differential, body, headers
        )
        assert answered_compiled, variables
        expected = normalized(off)
        assert "errors" not in expected, (variables, expected)
        assert [normalized(r) for r in (verified, on, admitted)] == [expected] * 3, variables
    # A cursor of another order: the executor reports it, on both paths
    body = {"query": NESTED_CONNECTIONS, "variables": {"after": cursor, "order": {"field": "NAME"}}}
    (verified, on, admitted), off, answered_compiled = await _responses(differential, body, headers)
    assert not answered_compiled
    expected = normalized(off)
    assert expected["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert [normalized(r) for r in (verified, on, admitted)] == [expected] * 3


RELATIONSHIPS = """query($first: Int, $after: String, $last: Int) {
  companies(first: 20) { edges { node { id name
    relationships(first: $first, after: $after, last: $last) { totalCount
      edges { cursor node { direction otherCompanyId otherCompany { name } type { name } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } } } }"""
RELATE = """mutation($a: ID!, $b: ID!, $t: ID!) {
  createCompanyRelationship(fromCompanyId: $a, toCompanyId: $b, typeId: $t) { relationship { id } } }"""


async def test_company_relationships_are_answered_by_the_executor_and_agree(
    differential: Differential,
) -> None:
    """company.relationships (a connection of both directions, each seen from the company it
    is listed on: no NESTED_PAGE metadata) is declined by the compiled path (NotCompilable,
    the executor answers) with the same answer on every path; a trashed company's
    relationships are on none of them."""
    api, companies = differential.api, differential.seeded.ids["company"]
    type_id = await _created(
        api, 'mutation { createRelationshipType(input: {name: "Partner"}) { id } }', {}
    )
    hub, others = companies[2], companies[3:6]
    gone = await _created(api, 'mutation { createCompany(input: {name: "Weg"}) { id } }', {})
    for a, b in ((hub, others[0]), (others[1], hub), (hub, others[2]), (hub, gone)):
        await api.data(RELATE, {"a": a, "b": b, "t": type_id})
    await api.data("mutation($id: ID!) { deleteCompany(id: $id) }", {"id": gone})
    headers = {"authorization": f"Bearer {differential.callers['viewer']}"}
    cursor = None
    for variables in ({}, {"first": 1}, {"first": 2, "after": "CURSOR"}, {"last": 1}):
        if variables.get("after") == "CURSOR":
            variables["after"] = cursor
        body = {"query": RELATIONSHIPS, "variables": variables}
        (verified, on, admitted), off, answered_compiled = await _responses(
            differential, body, headers
        )
        assert not answered_compiled, variables
        expected = normalized(off)
        assert "errors" not in expected, expected
        assert [normalized(r) for r in (verified, on, admitted)] == [expected] * 3, variables
        found = {e["node"]["id"]: e["node"] for e in expected["data"]["companies"]["edges"]}
        connection = found[hub]["relationships"]
        assert connection["totalCount"] == 3  # the trashed company's one is hidden
        cursor = connection["pageInfo"]["endCursor"]
    directions = [e["node"]["direction"] for e in connection["edges"]]
    assert directions == ["OUTGOING"]  # last: 1, the newest
    # Declined on the field itself, even when only record columns are selected
    columns = "{ company(id: $id) { relationships { totalCount edges { node { id notes } } } } }"
    body = {"query": f"query($id: ID!) {columns}", "variables": {"id": hub}}
    (verified, on, admitted), off, answered_compiled = await _responses(differential, body, headers)
    assert not answered_compiled
    expected = normalized(off)
    assert [normalized(r) for r in (verified, on, admitted)] == [expected] * 3
    assert expected["data"]["company"]["relationships"]["totalCount"] == 3
