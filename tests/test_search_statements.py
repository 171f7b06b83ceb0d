"""A page of `search` costs the same SQL statements at any `first` (issue 22, Performance and
scale): the hits, their records of each kind and the matched fields come in a fixed number of
statements, never one per hit. The query is bench S9's (bench/search.py), hits and all."""

from __future__ import annotations

import pytest
from graphql import build_schema

from bench.search import SEARCH
from resolvers.schema import schema_sdl
from tests.conftest import Api, StatementCounter

HITS = 30  # companies, each with a contact: 60 records that match


def has_search() -> bool:
    query = build_schema(schema_sdl()).query_type
    return query is not None and "search" in query.fields


pytestmark = pytest.mark.skipif(
    not has_search(),
    reason="the schema has no `search` field yet (issue 22's search part lands it)",
)


async def test_a_search_page_costs_the_same_statements_at_any_first(
    api: Api, sql: StatementCounter
) -> None:
    for n in range(HITS):
        created = await api.data(
            """mutation($n: String!) { createCompany(input: {name: $n,
              emails: [{email: "info@mueller.example"}], phones: [{phone: "+49 711 1234-0"}]})
              { id } }""",
            {"n": f"Müller Maschinenbau {n:02} GmbH"},
        )
        await api.data(
            """mutation($c: ID!) { createContact(input: {firstName: "Anna", lastName: "Müller",
              companyId: $c, emails: [{email: "anna.mueller@mueller.example"}]}) { id } }""",
            {"c": created["createCompany"]["id"]},
        )
    counts, kinds = {}, {}
    for first in (5, 50):
        sql.statements.clear()
        data = await api.data(SEARCH, {"q": "Müller", "first": first})
        edges = data["search"]["edges"]
        assert len(edges) == first, [e["node"]["record"] for e in edges]
        kinds[first] = {e["node"]["record"]["__typename"] for e in edges}
        assert data["search"]["pageInfo"]["hasNextPage"]
        counts[first] = sql.count
    # The records of a kind are read by one statement whatever their number, so the count may
    # differ only by the kinds a page holds (five hits can all be companies).
    assert kinds[50] == {"Company", "Contact"}
    assert counts[5] - len(kinds[5]) == counts[50] - len(kinds[50]), (counts, sql.statements)
