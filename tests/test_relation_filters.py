"""Relation-path filters (app.services.common.relation_filters): to-one nesting, some / none /
every over to-many relations, and / or / not, ownedByMe and assignedToMe, on companies,
contacts, deals, activities and contracts; each asserting which records are found and which
are not, with totalCount, through the app in verify mode (the compiled path answers the list
roots it covers too, and must agree: the `compiled_agrees` fixture).

The data, one tenant ("me" is the admin caller, "other" the member):

    company   size    industry  owners       deals                contacts  activities  contracts
    Alpha     MEDIUM  I1        me           d1 WON, d2 OPEN      cA        a1          kA
    Beta      SMALL   -         other        d3 LOST              cB        a3          kB
    Gamma     MEDIUM  I2        -            -                    -         -           -

    deal  company  contact  status  owners
    d1    Alpha    cA       WON     me OWNER
    d2    Alpha    -        OPEN    other OWNER
    d3    Beta     cB       LOST    me WATCHER

    contact  company  owners     activity  linked to            assignee
    cA       Alpha    me         a1        Alpha, d1            me
    cB       Beta     other      a2        cB                   other
    cN       -        -          a3        Beta, d3             -
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from app.errors import BadUserInput
from app.services.activities import queries as activities
from app.services.companies import queries as companies
from app.services.contracts import queries as contracts
from tests.conftest import Api, StatementCounter, error_codes, error_fields
from tests.factories import new_scope

ROOTS = {  # the list, the field its records are named by, its filter type
    "companies": ("name", "CompanyFilter"),
    "contacts": ("lastName", "ContactFilter"),
    "deals": ("title", "DealFilter"),
    "activities": ("subject", "ActivityFilter"),
    "contracts": ("title", "ContractFilter"),
}


@dataclass
class World:
    api: Api
    me: str
    other: str
    ids: dict[str, str]

    async def names(self, root: str, filter: dict[str, Any], role: str = "admin") -> set[str]:
        """The records of `root` the filter finds (all on one page), checked against its
        totalCount."""
        label, type_name = ROOTS[root]
        query = f"""query($f: {type_name}) {{
          {root}(filter: $f, first: 200) {{ totalCount edges {{ node {{ {label} }} }} }} }}"""
        data = await self.api.data(query, {"f": filter}, role=role)
        found = [edge["node"][label] for edge in data[root]["edges"]]
        assert data[root]["totalCount"] == len(found), data
        return set(found)

    async def errors(self, root: str, filter: dict[str, Any]) -> dict[str, Any]:
        type_name = ROOTS[root][1]
        query = (
            f"query($f: {type_name}) {{ {root}(filter: $f) {{ totalCount edges {{ cursor }} }} }}"
        )
        return await self.api(query, {"f": filter})


async def _id(api: Api, mutation: str, variables: dict[str, Any], role: str = "admin") -> str:
    data = await api.data(mutation, variables, role=role)
    (created,) = data.values()
    return str(created["id"])


async def _user(api: Api, role: str) -> str:
    data = await api.data("{ me { user { id } } }", role=role)
    return str(data["me"]["user"]["id"])


COMPANY = "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }"
CONTACT = "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }"
DEAL = "mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }"
ACTIVITY = "mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }"
CONTRACT = "mutation($i: CreateContractInput!) { createContract(input: $i) { id } }"
INDUSTRY = "mutation($n: String!) { createIndustry(input: {name: $n}) { id } }"


async def seed(api: Api, prefix: str = "") -> World:
    me, other = await _user(api, "admin"), await _user(api, "member")
    ids: dict[str, str] = {"me": me, "other": other}
    ids["I1"] = await _id(api, INDUSTRY, {"n": f"{prefix}Maschinenbau"})
    ids["I2"] = await _id(api, INDUSTRY, {"n": f"{prefix}Handel"})
    mine = [{"userId": me, "role": "OWNER"}]
    theirs = [{"userId": other, "role": "OWNER"}]
    companies = {
        "Alpha": {"companySize": "MEDIUM", "industryId": ids["I1"], "owners": mine},
        "Beta": {"companySize": "SMALL", "owners": theirs},
        "Gamma": {"companySize": "MEDIUM", "industryId": ids["I2"], "owners": []},
    }
    for name, values in companies.items():
        ids[name] = await _id(api, COMPANY, {"i": {"name": f"{prefix}{name}", **values}})
    contacts = {
        "cA": {"companyId": ids["Alpha"], "owners": mine},
        "cB": {"companyId": ids["Beta"], "owners": theirs},
        "cN": {"owners": []},
    }
    for name, values in contacts.items():
        ids[name] = await _id(api, CONTACT, {"i": {"lastName": f"{prefix}{name}", **values}})
    deals = {
        "d1": {"companyId": ids["Alpha"], "contactId": ids["cA"], "status": "WON", "owners": mine},
        "d2": {"companyId": ids["Alpha"], "owners": theirs},
        "d3": {
            "companyId": ids["Beta"],
            "contactId": ids["cB"],
            "status": "LOST",
            "lostReason": "PRICE",
            "owners": [{"userId": me, "role": "WATCHER"}],
        },
    }
    await api.data(
        """mutation { createPipeline(input: {name: "Vertrieb", stages: [{name: "Lead"},
          {name: "Gewonnen", kind: WON, probability: 100}, {name: "Verloren", kind: LOST}]})
          { id } }"""
    )
    for name, values in deals.items():
        ids[name] = await _id(api, DEAL, {"i": {"title": f"{prefix}{name}", **values}})
    activities = {
        "a1": {"companyId": ids["Alpha"], "dealId": ids["d1"], "assigneeId": me},
        "a2": {"contactId": ids["cB"], "assigneeId": other},
        "a3": {"companyId": ids["Beta"], "dealId": ids["d3"]},
    }
    for name, values in activities.items():
        activity = {"type": "CALL", "subject": f"{prefix}{name}", **values}
        ids[name] = await _id(api, ACTIVITY, {"i": activity})
    for name, company in (("kA", "Alpha"), ("kB", "Beta")):
        contract = {"companyId": ids[company], "title": f"{prefix}{name}"}
        ids[name] = await _id(api, CONTRACT, {"i": contract})
    return World(api, me, other, ids)


@pytest.fixture
async def world(api: Api) -> World:
    return await seed(api)


WON, LOST, OPEN = ["WON"], ["LOST"], ["OPEN"]


# --- companies ------------------------------------------------------------------------------


async def test_companies_by_their_deals_some_none_every(world: World) -> None:
    names = world.names
    assert await names("companies", {"deals": {"some": {"status": WON}}}) == {"Alpha"}
    assert await names("companies", {"deals": {"none": {"status": WON}}}) == {"Beta", "Gamma"}
    # every: Gamma has no deals, so every one of them is won
    assert await names("companies", {"deals": {"every": {"status": LOST}}}) == {"Beta", "Gamma"}
    both = {"every": {"status": ["WON", "OPEN"]}}
    assert await names("companies", {"deals": both}) == {"Alpha", "Gamma"}
    # quantifiers together: each must hold
    some_and_none = {"some": {"status": WON}, "none": {"status": LOST}}
    assert await names("companies", {"deals": some_and_none}) == {"Alpha"}
    # `none: {}`: no deal at all
    assert await names("companies", {"deals": {"none": {}}}) == {"Gamma"}


async def test_every_counts_a_null_comparison_as_not_matching(world: World) -> None:
    """d2 is open: its closedAt is NULL, so `closedAfter` is unknown for it, which `every`
    must count as failing (without the coalesce, NOT EXISTS would let Alpha through)."""
    closed = {"deals": {"every": {"closedAfter": "2020-01-01T00:00:00+00:00"}}}
    assert await world.names("companies", closed) == {"Beta", "Gamma"}


async def test_companies_with_a_won_deal_closed_after_a_date(world: World) -> None:
    recent = {"status": WON, "closedAfter": "2020-01-01T00:00:00+00:00"}
    assert await world.names("companies", {"deals": {"some": recent}}) == {"Alpha"}
    future = {"status": WON, "closedAfter": "2999-01-01T00:00:00+00:00"}
    assert await world.names("companies", {"deals": {"some": future}}) == set()


async def test_companies_by_contacts_activities_contracts_owners(world: World) -> None:
    names = world.names
    assert await names("companies", {"contacts": {"some": {"ownedByMe": True}}}) == {"Alpha"}
    mine = {"activities": {"some": {"assignedToMe": True}}}
    assert await names("companies", mine) == {"Alpha"}
    assert await names("companies", {"contracts": {"none": {}}}) == {"Gamma"}
    theirs = {"owners": {"some": {"userId": world.other, "role": ["OWNER"]}}}
    assert await names("companies", theirs) == {"Beta"}
    assert await names("companies", {"owners": {"every": {"userId": world.me}}}) == {
        "Alpha",
        "Gamma",
    }


async def test_companies_owned_by_me(world: World) -> None:
    assert await world.names("companies", {"ownedByMe": True}) == {"Alpha"}
    assert await world.names("companies", {"ownedByMe": False}) == {"Beta", "Gamma"}
    # the member owns Beta
    assert await world.names("companies", {"ownedByMe": True}, role="member") == {"Beta"}


async def test_companies_and_or_not(world: World) -> None:
    names, ids = world.names, world.ids
    either = {"or": [{"size": ["SMALL"]}, {"deals": {"some": {"status": WON}}}]}
    assert await names("companies", either) == {"Alpha", "Beta"}
    # not: a company without an industry is not in industry I1
    assert await names("companies", {"not": {"industryId": ids["I1"]}}) == {"Beta", "Gamma"}
    both = {"and": [{"size": ["MEDIUM"]}, {"not": {"industryId": ids["I1"]}}]}
    assert await names("companies", both) == {"Gamma"}
    assert await names("companies", {"and": []}) == {"Alpha", "Beta", "Gamma"}
    assert await names("companies", {"or": []}) == set()
    # a quantifier inside a combinator inside a quantifier
    nested = {"deals": {"some": {"or": [{"status": LOST}, {"not": {"ownedByMe": False}}]}}}
    assert await names("companies", nested) == {"Alpha", "Beta"}


# --- contacts -------------------------------------------------------------------------------


async def test_contacts_by_their_company(world: World) -> None:
    names, ids = world.names, world.ids
    machine_builders = {"company": {"size": ["MEDIUM"], "industryId": ids["I1"]}}
    assert await names("contacts", machine_builders) == {"cA"}
    # to-one: only contacts whose company is set and matches
    assert await names("contacts", {"company": {}}) == {"cA", "cB"}
    assert await names("contacts", {"not": {"company": {"size": ["SMALL"]}}}) == {"cA", "cN"}


async def test_contacts_by_deals_activities_owners(world: World) -> None:
    names = world.names
    assert await names("contacts", {"deals": {"some": {"status": WON}}}) == {"cA"}
    assert await names("contacts", {"deals": {"none": {"status": WON}}}) == {"cB", "cN"}
    assert await names("contacts", {"deals": {"every": {"status": LOST}}}) == {"cB", "cN"}
    others = {"activities": {"some": {"assignedToMe": False}}}
    assert await names("contacts", others) == {"cB"}
    assert await names("contacts", {"ownedByMe": True}) == {"cA"}
    assert await names("contacts", {"owners": {"none": {}}}) == {"cN"}
    assert await names("contacts", {"or": [{"ownedByMe": True}, {"company": None}]}) == {
        "cA",
        "cB",
        "cN",
    }


async def test_contacts_whose_company_has_a_won_deal_owned_by_me(world: World) -> None:
    """Two levels deep: contact -> company -> deals.some, with ownedByMe at the bottom."""
    mine = {"company": {"deals": {"some": {"status": WON, "ownedByMe": True}}}}
    assert await world.names("contacts", mine) == {"cA"}
    assert await world.names("contacts", mine, role="member") == set()
    theirs = {"company": {"deals": {"some": {"owners": {"some": {"userId": world.other}}}}}}
    assert await world.names("contacts", theirs) == {"cA"}
    # and back down: contacts of companies that have a contact with a lost deal
    lost = {"company": {"contacts": {"some": {"deals": {"some": {"status": LOST}}}}}}
    assert await world.names("contacts", lost) == {"cB"}


# --- deals ----------------------------------------------------------------------------------


async def test_deals_by_company_contact_and_closing(world: World) -> None:
    names, ids = world.names, world.ids
    assert await names("deals", {"company": {"size": ["MEDIUM"]}}) == {"d1", "d2"}
    assert await names("deals", {"contact": {"companyId": ids["Beta"]}}) == {"d3"}
    assert await names("deals", {"contact": {}}) == {"d1", "d3"}
    assert await names("deals", {"closedAfter": "2020-01-01T00:00:00+00:00"}) == {"d1", "d3"}
    assert await names("deals", {"closedBefore": "2020-01-01T00:00:00+00:00"}) == set()


async def test_deals_by_owners_and_activities(world: World) -> None:
    names = world.names
    owner = {"owners": {"some": {"userId": world.me, "role": ["OWNER"]}}}
    assert await names("deals", owner) == {"d1"}
    assert await names("deals", {"owners": {"some": {"userId": world.me}}}) == {"d1", "d3"}
    assert await names("deals", {"owners": {"every": {"role": ["OWNER"]}}}) == {"d1", "d2"}
    assert await names("deals", {"owners": {"none": {"userId": world.me}}}) == {"d2"}
    assert await names("deals", {"ownedByMe": True}) == {"d1", "d3"}
    assert await names("deals", {"activities": {"some": {}}}) == {"d1", "d3"}
    assert await names("deals", {"activities": {"none": {}}}) == {"d2"}
    every_mine = {"activities": {"every": {"assignedToMe": True}}}
    assert await names("deals", every_mine) == {"d1", "d2"}


async def test_deals_and_or_not(world: World) -> None:
    names = world.names
    assert await names("deals", {"not": {"status": WON}}) == {"d2", "d3"}
    either = {"or": [{"status": LOST}, {"company": {"ownedByMe": False}}]}
    assert await names("deals", either) == {"d3"}
    both = {"and": [{"company": {"size": ["MEDIUM"]}}, {"not": {"ownedByMe": True}}]}
    assert await names("deals", both) == {"d2"}


# --- activities and contracts ---------------------------------------------------------------


async def test_activities_by_deal_company_contact(world: World) -> None:
    names = world.names
    assert await names("activities", {"deal": {"status": WON}}) == {"a1"}
    assert await names("activities", {"company": {"size": ["SMALL"]}}) == {"a3"}
    assert await names("activities", {"contact": {"company": {"size": ["SMALL"]}}}) == {"a2"}
    assert await names("activities", {"assignedToMe": True}) == {"a1"}
    assert await names("activities", {"assignedToMe": False}) == {"a2", "a3"}
    assert await names("activities", {"not": {"deal": {}}}) == {"a2"}
    either = {"or": [{"deal": {"status": LOST}}, {"contact": {"ownedByMe": False}}]}
    assert await names("activities", either) == {"a2", "a3"}
    both = {"and": [{"deal": {}}, {"not": {"assignedToMe": True}}]}
    assert await names("activities", both) == {"a3"}


async def test_contracts_by_company(world: World) -> None:
    names = world.names
    assert await names("contracts", {"company": {"ownedByMe": True}}) == {"kA"}
    assert await names("contracts", {"company": {"size": ["SMALL"]}}) == {"kB"}
    assert await names("contracts", {"not": {"company": {"size": ["SMALL"]}}}) == {"kA"}
    won = {"company": {"deals": {"some": {"status": WON}}}}
    assert await names("contracts", {"or": [won, {"company": {"ownedByMe": False}}]}) == {
        "kA",
        "kB",
    }
    assert await names("contracts", {"and": [won, {"company": {"ownedByMe": False}}]}) == set()


RELATE = """mutation($f: ID!, $t: ID!, $k: ID!, $n: String) {
  createCompanyRelationship(fromCompanyId: $f, toCompanyId: $t, typeId: $k, notes: $n) {
    relationship { id } } }"""
RELATIONSHIPS = """query($f: CompanyRelationshipFilter) {
  companyRelationships(filter: $f) { totalCount edges { node { notes } } } }"""


async def test_company_relationships_by_either_company(world: World) -> None:
    api, ids = world.api, world.ids
    kind = await _id(
        api, 'mutation { createRelationshipType(input: {name: "Partner"}) { id } }', {}
    )
    for note, source, target in (("AB", "Alpha", "Beta"), ("BG", "Beta", "Gamma")):
        await api.data(RELATE, {"f": ids[source], "t": ids[target], "k": kind, "n": note})

    async def notes(filter: dict[str, Any]) -> set[str]:
        data = (await api.data(RELATIONSHIPS, {"f": filter}))["companyRelationships"]
        found = {edge["node"]["notes"] for edge in data["edges"]}
        assert data["totalCount"] == len(found)
        return found

    assert await notes({"fromCompany": {"ownedByMe": True}}) == {"AB"}
    assert await notes({"toCompany": {"size": ["MEDIUM"]}}) == {"BG"}
    assert await notes({"toCompany": {"deals": {"none": {}}}}) == {"BG"}
    assert await notes({"not": {"fromCompany": {"size": ["SMALL"]}}}) == {"AB"}
    either = {"or": [{"fromCompany": {"ownedByMe": True}}, {"toCompany": {"ownedByMe": True}}]}
    assert await notes(either) == {"AB"}
    both = {"and": [{"fromCompany": {}}, {"toCompany": {"size": ["SMALL"]}}]}
    assert await notes(both) == {"AB"}
    result = await api(RELATIONSHIPS, {"f": {"toCompany": {"industryId": "x"}}})
    assert error_fields(result) == {"filter.toCompany.industryId"}, result


# --- tenancy, the compiled path, the SQL ----------------------------------------------------


async def test_another_tenants_related_records_never_match(
    world: World, api: Api, tokens: Any
) -> None:
    theirs = await seed(Api(api.client, tokens, f"{api.tenant}-b"), prefix="B-")
    names = world.names
    # they too have a MEDIUM company with a won deal, owned by their admin
    assert await names("companies", {"deals": {"some": {"status": WON}}}) == {"Alpha"}
    assert await names("contacts", {"company": {"size": ["MEDIUM"]}}) == {"cA"}
    # their ids as filter values find nothing here
    their_user = {"owners": {"some": {"userId": theirs.me}}}
    assert await names("companies", their_user) == set()
    assert await names("deals", their_user) == set()
    assert await names("contacts", {"company": {"industryId": theirs.ids["I1"]}}) == set()
    their_company = {"activities": {"some": {"companyId": theirs.ids["Alpha"]}}}
    assert await names("deals", their_company) == set()
    # and theirs see theirs only
    found = await theirs.names("companies", {"deals": {"some": {"status": WON}}})
    assert found == {"B-Alpha"}


async def test_the_compiled_path_answers_relation_filters(
    world: World, compiled_sql: StatementCounter
) -> None:
    """Companies, contacts and deals are compiled list roots: the plan runs the resolver's
    page query, conditions included (verify mode compares it with the executor)."""
    mine = {"company": {"deals": {"some": {"status": WON, "ownedByMe": True}}}}
    query = "query($f: ContactFilter) { contacts(filter: $f) { edges { node { lastName } } } }"
    for _ in range(2):  # the second time from the admitted plan
        data = await world.api.data(query, {"f": mine})
        assert [e["node"]["lastName"] for e in data["contacts"]["edges"]] == ["cA"]
    pages = [s for s in compiled_sql.statements if "FROM contact" in s]
    assert pages and all("EXISTS" in s for s in pages)


async def test_every_subquery_carries_the_tenant_filter(
    world: World, sql: StatementCounter
) -> None:
    filter = {
        "company": {"deals": {"some": {"owners": {"some": {"userId": world.me}}}}},
        "activities": {"every": {"deal": {"status": WON}}},
        "ownedByMe": True,
    }
    await world.names("contacts", filter)
    (page,) = [s for s in sql.statements if "FROM contact" in s and "LIMIT" in s]
    # contact, and in its subqueries: company, deal, deal_owner, activity, deal, contact_owner
    assert page.count("EXISTS (SELECT") == 6, page
    assert page.count("tenant_id = ") == 7, page


# --- bad input ------------------------------------------------------------------------------


async def test_bad_filters_are_refused_with_the_path(world: World) -> None:
    deep: dict[str, Any] = {"status": WON}
    for _ in range(6):
        deep = {"company": {"deals": {"some": deep}}}
    result = await world.errors("deals", deep)
    assert error_codes(result) == ["BAD_USER_INPUT"], result
    too_deep = "filter.company.deals.some.company.deals.some.company.deals.some"
    assert error_fields(result) == {too_deep}, result

    many = {"or": [{"status": WON} for _ in range(26)]}  # 2 each: 52
    result = await world.errors("deals", many)
    assert error_codes(result) == ["BAD_USER_INPUT"], result
    assert error_fields(result) == {"filter.or[25]"}, result

    malformed = {"company": {"deals": {"some": {"owners": {"some": {"userId": "nope"}}}}}}
    result = await world.errors("contacts", malformed)
    assert error_codes(result) == ["BAD_USER_INPUT"], result
    assert error_fields(result) == {"filter.company.deals.some.owners.some.userId"}, result

    nul = {"company": {"tag": "a\x00b"}}
    result = await world.errors("contacts", nul)
    assert error_codes(result) == ["BAD_USER_INPUT"], result
    assert error_fields(result) == {"filter.company.tag"}, result

    moment = {"deals": {"every": {"closedAfter": "0001-01-01T00:00:00+01:00"}}}
    result = await world.errors("companies", moment)
    assert error_codes(result) == ["BAD_USER_INPUT"], result
    assert error_fields(result) == {"filter.deals.every.closedAfter"}, result


async def test_a_filter_at_the_bounds_is_answered(world: World) -> None:
    deep: dict[str, Any] = {"status": WON}
    for _ in range(2):
        deep = {"company": {"deals": {"some": deep}}}
    # five levels: not, company, deals.some, company, deals.some
    assert await world.names("deals", {"not": deep}) == {"d3"}
    fifty = {"or": [{"status": WON} for _ in range(25)]}  # a filter object and a field each
    assert await world.names("deals", fifty) == {"d1"}


async def test_the_callers_shortcuts_need_a_user(sessions: Any) -> None:
    """A job's scope acts for nobody: ownedByMe / assignedToMe are refused, never read as
    "owned by no one"."""
    scope = dataclasses.replace(await new_scope(sessions), actor_id=None)
    mine = companies.CompanyFilter(owned_by_me=True)
    with pytest.raises(BadUserInput) as refused:
        await companies.count_companies(scope, mine)
    assert [p.field for p in refused.value.problems] == ["filter.ownedByMe"]
    with pytest.raises(BadUserInput) as refused:
        await contracts.count_contracts(scope, contracts.ContractFilter(company=mine))
    assert [p.field for p in refused.value.problems] == ["filter.company.ownedByMe"]
    assigned = activities.ActivityFilter(not_=activities.ActivityFilter(assigned_to_me=False))
    with pytest.raises(BadUserInput) as refused:
        await activities.count_activities(scope, assigned)
    assert [p.field for p in refused.value.problems] == ["filter.not.assignedToMe"]
    # with the user, the same filters count
    signed_in = dataclasses.replace(scope, actor_id=uuid.uuid4())
    assert await companies.count_companies(signed_in, mine) == 0


@pytest.mark.parametrize("levels", [50, 400, 3000])
async def test_a_very_deep_filter_is_refused_not_crashed(api: Api, levels: int) -> None:
    """As variables and as a literal: a coded error, never a server error (GraphQL's own
    limits, such as the token limit, or the JSON body's depth may refuse it first)."""
    variables = '{"not": ' * levels + '{"status": ["WON"]}' + "}" * levels
    query = "query($f: DealFilter) { deals(filter: $f) { totalCount } }"
    body = '{"query": ' + json.dumps(query) + ', "variables": {"f": ' + variables + "}}"
    headers = {"authorization": f"Bearer {api.token()}", "content-type": "application/json"}
    response = await api.client.post("/graphql", content=body, headers=headers)
    assert response.status_code in (200, 400), response.text[:300]
    assert error_codes(response.json()) == ["BAD_USER_INPUT"], response.text[:300]
    literal = "{not: " * levels + "{status: [WON]}" + "}" * levels
    result = await api(f"{{ deals(filter: {literal}) {{ totalCount }} }}")
    codes = set(error_codes(result))
    # the parser's own nesting limit (GRAPHQL_PARSE_FAILED), or the depth or filter limits
    refused = {"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"}
    assert codes and codes <= refused, str(result)[:300]
