"""The compiled execution path (resolvers/compiled): which queries it answers, what it costs,
and that its answers are the executor's. The whole suite runs in verify mode, so every query
any test sends is compared as well (conftest.compiled_agrees)."""

from __future__ import annotations

from tests.conftest import Api, StatementCounter

DEEP = """query($first: Int) { companies(first: $first) { totalCount edges { cursor node {
  id name status tags createdAt industry { name } emails { email isPrimary type } phones { phone }
  owners { role user { id name email } }
  contacts { id firstName lastName birthday company { name } emails { email } phones { phone }
    owners { role createdAt user { id name } } }
  deals { id title value currency status expectedCloseDate stage { name kind probability }
    pipeline { name } owners { role user { id } } } } }
  pageInfo { hasNextPage endCursor } } }"""


async def seed(api: Api, companies: int) -> str:
    me: str = (await api.data("{ me { user { id } } }"))["me"]["user"]["id"]
    await api.data(
        'mutation { createPipeline(input: {name: "V", stages: [{name: "Neu"}]}) { id } }'
    )
    industry = await api.data('mutation { createIndustry(input: {name: "Handel"}) { id } }')
    for index in range(companies):
        created = await api.data(
            """mutation($n: String!, $i: ID) { createCompany(input: {name: $n, industryId: $i,
              tags: ["a", "b"], emails: [{email: "info@f.de"}]}) { id } }""",
            {
                "n": f"Firma {index:02}",
                "i": industry["createIndustry"]["id"] if index % 2 else None,
            },
        )
        company_id = created["createCompany"]["id"]
        await api.data(
            "mutation($c: ID!, $u: ID!) { addCompanyOwner(companyId: $c, userId: $u) { role } }",
            {"c": company_id, "u": me},
        )
        for person in range(2):
            contact = await api.data(
                """mutation($c: ID!, $n: String!) { createContact(input: {lastName: $n,
                  companyId: $c, birthday: "1980-02-29", emails: [{email: "k@x.de"}],
                  phones: [{phone: "+49 30 1"}]}) { id } }""",
                {"c": company_id, "n": f"K{person}"},
            )
            await api.data(
                "mutation($c: ID!, $u: ID!) { addContactOwner(contactId: $c, userId: $u) { role } }",
                {"c": contact["createContact"]["id"], "u": me},
            )
            await api.data(
                """mutation($c: ID!, $u: ID!) { createDeal(input: {title: "D", value: "1200.50",
                  companyId: $c, owners: [{userId: $u}]}) { id } }""",
                {"c": company_id, "u": me},
            )
    return me


async def test_deep_page_is_compiled_with_one_statement_per_level_at_any_size(
    api: Api, compiled_sql: StatementCounter
) -> None:
    await seed(api, 12)
    counts = {}
    for first in (3, 12):
        compiled_sql.statements.clear()
        data = await api.data(DEEP, {"first": first})
        assert len(data["companies"]["edges"]) == first
        counts[first] = compiled_sql.count
    # root page and count (the resolvers' own), then one per relation level: industry,
    # emails, phones, owners, owner users, contacts, their company, emails, phones, owners,
    # owner users, deals, stages, pipelines, deal owners, their users.
    assert counts == {3: 2 + 16, 12: 2 + 16}, compiled_sql.statements
