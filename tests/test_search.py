"""search(query, types, first, after) and every list's filter.search: the matcher
(app/services/search/), German-aware and typo-tolerant, through the view search_entry."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api

CREATE_COMPANY = "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }"
CREATE_CONTACT = "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }"
SEARCH = """query($q: String!, $types: [SearchType!], $first: Int, $after: String) {
  search(query: $q, types: $types, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { type score
      matches { field text highlights { start end } }
      record { __typename
        ... on Company { id name }
        ... on Contact { id lastName }
        ... on Deal { id title }
        ... on Activity { id subject }
        ... on Contract { id title }
      } } } } }"""


async def company(api: Api, name: str, **values: Any) -> str:
    created = await api.data(CREATE_COMPANY, {"i": {"name": name, **values}})
    return str(created["createCompany"]["id"])


def names(result: dict[str, Any]) -> list[str]:
    out = []
    for edge in result["search"]["edges"]:
        record = edge["node"]["record"]
        out.append(
            record.get("name")
            or record.get("lastName")
            or record.get("title")
            or record.get("subject")
        )
    return out


async def found(api: Api, query: str, **variables: Any) -> list[str]:
    return names(await api.data(SEARCH, {"q": query, **variables}))


async def test_smoke(api: Api) -> None:
    await company(api, "Müller Maschinenbau GmbH", billingAddress={"city": "Stuttgart"})
    await company(api, "Mahler Metallbau AG")
    result = await api.data(SEARCH, {"q": "muller masch"})
    print(result)
    for q in ("muller masch", "Mueller", "Müler", "mu", "Maschinenbua", "muller stuttgart"):
        print(q, await found(api, q))
