"""Company filters, and the constant number of SQL statements for the deepest list query."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, StatementCounter

LIST = (
    """query($f: CompanyFilter) { companies(filter: $f) { totalCount edges { node { name } } } }"""
)
CREATE = "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }"


async def create(api: Api, name: str, **fields: Any) -> str:
    company_id: str = (await api.data(CREATE, {"i": {"name": name, **fields}}))["createCompany"][
        "id"
    ]
    return company_id


async def names(api: Api, filter_: dict[str, Any]) -> list[str]:
    data = await api.data(LIST, {"f": filter_})
    assert data["companies"]["totalCount"] == len(data["companies"]["edges"])
    return [e["node"]["name"] for e in data["companies"]["edges"]]


async def test_filter_by_industry_type_owner_tag_size_email(api: Api) -> None:
    industry = (await api.data('mutation { createIndustry(input: {name: "Bau"}) { id } }'))[
        "createIndustry"
    ]["id"]
    kind = (await api.data('mutation { createAccountType(input: {name: "Kunde"}) { id } }'))[
        "createAccountType"
    ]["id"]
    me = (await api.data("{ me { user { id } } }"))["me"]["user"]["id"]
    owned = await create(api, "Alpha", industryId=industry, tags=["ERP"], companySize="SMALL")
    # Owned by nobody (not even their creator), so that the owner filter has to choose.
    beta_email = [{"email": "einkauf@beta-bau.de"}]
    await create(api, "Beta", accountTypeId=kind, emails=beta_email, owners=[])
    await create(api, "Gamma", companySize="LARGE", owners=[])
    await api.data(
        "mutation($c: ID!, $u: ID!) { addCompanyOwner(companyId: $c, userId: $u) { id } }",
        {"c": owned, "u": me},
    )
    assert await names(api, {"industryId": industry}) == ["Alpha"]
    assert await names(api, {"accountTypeId": kind}) == ["Beta"]
    assert await names(api, {"ownerId": me}) == ["Alpha"]
    assert await names(api, {"tag": "ERP"}) == ["Alpha"]
    assert await names(api, {"size": ["SMALL", "LARGE"]}) == ["Alpha", "Gamma"]
    assert await names(api, {"search": "beta-bau.de"}) == ["Beta"]  # via its e-mail address
    assert await names(api, {"search": "einkauf@beta"}) == ["Beta"]


async def test_filter_by_creation_range(api: Api) -> None:
    await create(api, "Früh")
    created = await api.data('mutation { createCompany(input: {name: "Spät"}) { createdAt } }')
    since = created["createCompany"]["createdAt"]
    assert await names(api, {"createdFrom": since}) == ["Spät"]
    assert await names(api, {"createdTo": since}) == ["Früh", "Spät"]


DEEP = """query($first: Int) { companies(first: $first) { totalCount edges { node {
  name
  contacts { edges { node {
    lastName emails { email } phones { phone } owners { role user { email } } } } }
  deals { edges { node { title stage { name } owners { role user { email } } } } } } } } }"""


async def test_deepest_list_query_costs_one_statement_per_level_at_any_page_size(
    api: Api, sql: StatementCounter
) -> None:
    me = (await api.data("{ me { user { id } } }"))["me"]["user"]["id"]
    await api.data(
        'mutation { createPipeline(input: {name: "V", stages: [{name: "Neu"}]}) { id } }'
    )
    for index in range(25):
        company_id = await create(api, f"Firma {index:02}")
        for person in range(2):
            contact = await api.data(
                """mutation($c: ID!, $n: String!) { createContact(input: {lastName: $n,
                  companyId: $c, emails: [{email: "k@x.de"}, {email: "l@x.de"}],
                  phones: [{phone: "+49 30 1234567"}]}) { id } }""",
                {"c": company_id, "n": f"K{person}"},
            )
            await api.data(
                "mutation($c: ID!, $u: ID!) { addContactOwner(contactId: $c, userId: $u) { id } }",
                {"c": contact["createContact"]["id"], "u": me},
            )
            await api.data(
                """mutation($c: ID!, $u: ID!) { createDeal(input: {title: "D", companyId: $c,
                  owners: [{userId: $u}]}) { id } }""",
                {"c": company_id, "u": me},
            )
    counts = {}
    for first in (10, 200):
        sql.statements.clear()
        data = await api.data(DEEP, {"first": first})
        edges = data["companies"]["edges"]
        assert len(edges) == min(first, 25)
        assert all(
            len(e["node"]["contacts"]["edges"]) == 2 and len(e["node"]["deals"]["edges"]) == 2
            for e in edges
        )
        deals = [e["node"]["deals"]["edges"][0]["node"] for e in edges]
        assert all(deal["owners"][0]["user"]["email"] for deal in deals)
        counts[first] = sql.count
    # root + count + contacts, contact emails, phones, owners, owner users, deals, stages,
    # deal owners (their users come from the same user loader batch as the contact owners').
    levels = 8
    assert counts[10] == counts[200] <= 2 + levels, (counts, sql.statements)
