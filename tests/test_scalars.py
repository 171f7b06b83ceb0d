"""The custom scalars say which format they carry (`@specifiedBy` and a description giving the
wire form), and the server sends and accepts exactly that form (README's codegen mapping maps
all three to `string`)."""

from __future__ import annotations

import re

import graphql

from resolvers.schema import schema_sdl
from tests.conftest import Api, error_codes
from tests.test_deals import pipeline

# RFC 3339 section 5.6 `date-time` as the server writes it: UTC, `+00:00`, optional microseconds.
UTC_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+00:00")
FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PLAIN_AMOUNT = re.compile(r"-?\d+\.\d{2}")  # plain decimal string, two places, no exponent

CREATE_DEAL = "mutation($i: CreateDealInput!) { createDeal(input: $i) { id value createdAt } }"
CREATE_CONTACT = """mutation($i: CreateContactInput!) { createContact(input: $i) {
  id birthday } }"""
CREATE_TASK = """mutation($i: CreateActivityInput!) { createActivity(input: $i) { id dueAt } }"""


def test_every_custom_scalar_is_specified_by_a_url_and_described() -> None:
    schema = graphql.build_schema(schema_sdl())
    custom = {
        name: kind
        for name, kind in schema.type_map.items()
        if isinstance(kind, graphql.GraphQLScalarType)
        and name not in graphql.specified_scalar_types
        and not name.startswith("__")
    }
    assert {"Date", "DateTime", "Decimal"} <= set(custom)
    for name, scalar in custom.items():
        assert (scalar.specified_by_url or "").startswith("https://"), name
        assert scalar.description and len(scalar.description) > 40, name
    assert "rfc3339" in str(custom["DateTime"].specified_by_url)
    assert "rfc3339" in str(custom["Date"].specified_by_url)


async def test_the_wire_format_is_the_documented_one(api: Api) -> None:
    await pipeline(api)
    for sent in ("1E+3", "0.1", 12.5, "1250"):  # exponent form, short, a JSON number, integer
        created = (await api.data(CREATE_DEAL, {"i": {"title": "Rahmenvertrag", "value": sent}}))[
            "createDeal"
        ]
        assert PLAIN_AMOUNT.fullmatch(created["value"]), created
        assert UTC_DATE_TIME.fullmatch(created["createdAt"]), created
    assert created["value"] == "1250.00"

    contact = (
        await api.data(
            CREATE_CONTACT, {"i": {"firstName": "Ada", "lastName": "K", "birthday": "1990-02-03"}}
        )
    )["createContact"]
    assert FULL_DATE.fullmatch(contact["birthday"]) and contact["birthday"] == "1990-02-03"

    company = (await api.data('mutation { createCompany(input: {name: "Kiel GmbH"}) { id } }'))[
        "createCompany"
    ]["id"]
    task = {"type": "TASK", "subject": "Anrufen", "companyId": company}
    sent_in_cet = {**task, "dueAt": "2027-01-15T09:00:00+01:00"}
    due = (await api.data(CREATE_TASK, {"i": sent_in_cet}))["createActivity"]["dueAt"]
    assert due == "2027-01-15T08:00:00+00:00"  # the same instant, in UTC
    naive = await api(CREATE_TASK, {"i": {**task, "dueAt": "2027-01-15T09:00:00"}})
    assert error_codes(naive) == ["BAD_USER_INPUT"]
