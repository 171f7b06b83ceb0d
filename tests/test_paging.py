"""Paging both ways on every root list: `first`/`after` from the start, `last`/`before` from the
end, in every order and direction, through ties and NULLs, with the exact pageInfo flags; bad
cursors and argument combinations refused. Every query runs on both execution paths (the
suite's verify mode compares them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import graphql
import pytest

from resolvers.schema import schema_sdl
from tests.conftest import Api, StatementCounter, error_codes, error_fields

SCHEMA = graphql.build_schema(schema_sdl())


def order_fields(root: str) -> list[str]:
    """The values of the root list's order enum (all of them: a new one is walked too)."""
    assert SCHEMA.query_type is not None
    order = graphql.get_named_type(SCHEMA.query_type.fields[root].args["orderBy"].type)
    assert isinstance(order, graphql.GraphQLInputObjectType)
    values = graphql.get_named_type(order.fields["field"].type)
    assert isinstance(values, graphql.GraphQLEnumType)
    return list(values.values)


def page_query(root: str, order: bool = True) -> str:
    ordering = ", orderBy: $order" if order else ""
    declared = ", $order: " + _order_type(root) if order else ""
    return f"""query($first: Int, $after: String, $last: Int, $before: String{declared}) {{
      {root}(first: $first, after: $after, last: $last, before: $before{ordering}) {{
        edges {{ cursor node {{ id }} }}
        pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }}"""


def _order_type(root: str) -> str:
    assert SCHEMA.query_type is not None
    return graphql.get_named_type(SCHEMA.query_type.fields[root].args["orderBy"].type).name


@dataclass
class Walk:
    api: Api
    root: str
    order: dict[str, str] | None

    async def page(self, **arguments: Any) -> dict[str, Any]:
        variables = {**arguments}
        if self.order is not None:
            variables["order"] = self.order
        page: dict[str, Any] = (
            await self.api.data(page_query(self.root, self.order is not None), variables)
        )[self.root]
        edges = page["edges"]
        info = page["pageInfo"]
        assert info["startCursor"] == (edges[0]["cursor"] if edges else None)
        assert info["endCursor"] == (edges[-1]["cursor"] if edges else None)
        return page

    async def whole(self) -> list[tuple[str, str]]:
        page = await self.page(first=200)
        assert page["pageInfo"] == {**page["pageInfo"], "hasNextPage": False}
        assert page["pageInfo"]["hasPreviousPage"] is False
        return [(e["node"]["id"], e["cursor"]) for e in page["edges"]]

    async def forward(self, size: int) -> list[tuple[str, str]]:
        seen: list[tuple[str, str]] = []
        after = None
        while True:
            page = await self.page(first=size, after=after)
            seen += [(e["node"]["id"], e["cursor"]) for e in page["edges"]]
            info = page["pageInfo"]
            assert info["hasPreviousPage"] is (after is not None)
            if not info["hasNextPage"]:
                return seen
            assert len(page["edges"]) == size
            after = info["endCursor"]

    async def backward(self, size: int) -> list[tuple[str, str]]:
        seen: list[tuple[str, str]] = []
        before = None
        while True:
            page = await self.page(last=size, before=before)
            seen = [(e["node"]["id"], e["cursor"]) for e in page["edges"]] + seen
            info = page["pageInfo"]
            assert info["hasNextPage"] is (before is not None)
            if not info["hasPreviousPage"]:
                return seen
            assert len(page["edges"]) == size
            before = info["startCursor"]


async def walk_every_order(api: Api, root: str, expected_rows: int) -> None:
    """Forward and backward, in pages of 2 and 3, in every order and direction, give the same
    rows with the same cursors as one whole page; the two directions are each other's reverse."""
    for field in order_fields(root):
        by_direction = {}
        for direction in ("ASC", "DESC"):
            walk = Walk(api, root, {"field": field, "direction": direction})
            whole = await walk.whole()
            assert len(whole) == expected_rows, (field, direction)
            assert len({row_id for row_id, _ in whole}) == expected_rows
            for size in (2, 3):
                assert await walk.forward(size) == whole, (field, direction, size)
                assert await walk.backward(size) == whole, (field, direction, size)
            by_direction[direction] = [row_id for row_id, _ in whole]
        if field not in ("CREATED_AT", "UPDATED_AT"):  # timestamps have no ties to break
            continue
        assert by_direction["DESC"] == by_direction["ASC"][::-1], field


# --- the data: ties and NULLs in every order ------------------------------------------------


async def _created(api: Api, mutation: str, variables: dict[str, Any]) -> str:
    (created,) = (await api.data(mutation, variables)).values()
    row_id: str = created["id"]
    return row_id


CREATE_COMPANY = "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }"
CREATE_CONTACT = "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }"
CREATE_DEAL = "mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }"
CREATE_ACTIVITY = "mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }"
CREATE_CONTRACT = "mutation($i: CreateContractInput!) { createContract(input: $i) { id } }"


async def seed_companies(api: Api, count: int = 7) -> list[str]:
    industries = [
        await _created(
            api, "mutation($n: String!) { createIndustry(input: {name: $n}) { id } }", {"n": n}
        )
        for n in ("Maschinenbau", "handel")
    ]
    companies = []
    for index in range(count):
        company = {
            "name": ("Gleich GmbH", "gleich gmbh", "Anders AG")[index % 3],  # ties, any case
            "status": ("ACTIVE", "INACTIVE")[index % 2],
            "companySize": (None, "MICRO", "LARGE")[index % 3],
            "industryId": (None, industries[0], industries[1])[index % 3],
            "owners": [],
        }
        companies.append(await _created(api, CREATE_COMPANY, {"i": company}))
    return companies


async def test_companies_page_both_ways_in_every_order(api: Api) -> None:
    await seed_companies(api)
    await walk_every_order(api, "companies", 7)


async def test_contacts_page_both_ways_in_every_order(api: Api) -> None:
    companies = await seed_companies(api, 3)
    for index in range(7):
        contact = {
            "lastName": ("Meier", "meier", "Abel")[index % 3],
            "firstName": (None, "Jan", "jan")[index % 3],
            "companyId": (None, *companies)[index % 4],
            "position": (None, "CEO")[index % 2],
            "department": (None, "Einkauf", "einkauf")[index % 3],
            "birthday": (None, "1980-02-03")[index % 2],
            "status": ("ACTIVE", "INACTIVE")[index % 2],
            "owners": [],
        }
        await _created(api, CREATE_CONTACT, {"i": contact})
    await walk_every_order(api, "contacts", 7)


async def seed_deals(api: Api, companies: list[str], count: int = 8) -> list[str]:
    pipeline = await api.data(
        """mutation { createPipeline(input: {name: "Zwei", stages: [{name: "A"}, {name: "B"},
        {name: "C", kind: WON}]}) { id stages { id } } }"""
    )
    stages = [s["id"] for s in pipeline["createPipeline"]["stages"]]
    deals = []
    for index in range(count):
        deal: dict[str, Any] = {
            "title": ("Angebot", "angebot", "Zuschlag")[index % 3],
            "value": ("100.00", "100.00", "7.50")[index % 3],
            "pipelineId": pipeline["createPipeline"]["id"],
            "stageId": stages[index % 2],
            "companyId": (None, *companies)[index % (len(companies) + 1)],
            "expectedCloseDate": (None, "2026-03-01", "2026-03-01")[index % 3],
            "owners": [],
        }
        if index % 4 == 3:
            deal["stageId"] = stages[2]  # won: closedAt set
            deal["status"] = "WON"
        deals.append(await _created(api, CREATE_DEAL, {"i": deal}))
    return deals


async def test_deals_page_both_ways_in_every_order(api: Api) -> None:
    companies = await seed_companies(api, 2)
    await seed_deals(api, companies)
    await walk_every_order(api, "deals", 8)


async def test_activities_page_both_ways_in_every_order(api: Api) -> None:
    (company,) = await seed_companies(api, 1)
    for index in range(7):
        activity = {
            "companyId": company,
            "type": ("CALL", "NOTE")[index % 2],
            "subject": ("Rückruf", "rückruf", "Angebot")[index % 3],
            "dueAt": (None, "2026-05-01T10:00:00+00:00")[index % 2],
        }
        activity_id = await _created(api, CREATE_ACTIVITY, {"i": activity})
        if index % 3 == 0:
            await api.data(
                "mutation($id: ID!) { completeActivity(id: $id) { id } }", {"id": activity_id}
            )
    await walk_every_order(api, "activities", 7)


async def test_contracts_page_both_ways_in_every_order(api: Api) -> None:
    (company,) = await seed_companies(api, 1)
    for index in range(7):
        contract = {
            "companyId": company,
            "title": ("Wartung", "wartung", "Lizenz")[index % 3],
            "startDate": (None, "2025-01-01")[index % 2],
            "endDate": (None, "2026-12-31", "2026-12-31")[index % 3],
            "value": (None, "10.00")[index % 2],
            "status": ("ACTIVE", "DRAFT")[index % 2],
        }
        await _created(api, CREATE_CONTRACT, {"i": contract})
    await walk_every_order(api, "contracts", 7)


async def test_pipelines_page_both_ways_in_every_order(api: Api) -> None:
    for index in range(5):
        await api.data(
            'mutation($n: String!) { createPipeline(input: {name: $n, stages: [{name: "A"}]}) { id } }',
            {"n": f"Vertrieb {index}" if index % 2 else f"vertrieb {index}"},  # names are unique
        )
    total = (await api.data("{ pipelines { totalCount } }"))["pipelines"]["totalCount"]
    await walk_every_order(api, "pipelines", total)


async def test_relationships_page_both_ways(api: Api) -> None:
    companies = await seed_companies(api, 4)
    kind = await _created(
        api, 'mutation { createRelationshipType(input: {name: "Partner"}) { id } }', {}
    )
    for index, source in enumerate(companies):
        for target in companies[index + 1 :]:  # one per pair
            await api.data(
                """mutation($f: ID!, $t: ID!, $k: ID!) {
                      createCompanyRelationship(fromCompanyId: $f, toCompanyId: $t, typeId: $k) { relationship { id } } }""",
                {"f": source, "t": target, "k": kind},
            )
    await walk_every_order(api, "companyRelationships", 6)


EVENTS = """query($first: Int, $after: ID, $last: Int, $before: ID, $d: OrderDirection!) {
  events(first: $first, after: $after, last: $last, before: $before, direction: $d) {
    edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


async def test_events_page_both_ways(api: Api) -> None:
    await seed_companies(api, 3)  # 2 industries and 3 companies: 5 events at least
    for direction in ("ASC", "DESC"):

        async def page(direction: str = direction, **arguments: Any) -> dict[str, Any]:
            found: dict[str, Any] = (await api.data(EVENTS, {"d": direction, **arguments}))[
                "events"
            ]
            return found

        whole = [e["cursor"] for e in (await page(first=200))["edges"]]
        assert len(whole) >= 5
        ids = [int(c) for c in whole]
        assert ids == sorted(ids, reverse=direction == "DESC")
        seen: list[str] = []
        before = None
        while True:
            found = await page(last=2, before=before)
            seen = [e["cursor"] for e in found["edges"]] + seen
            assert found["pageInfo"]["hasNextPage"] is (before is not None)
            if not found["pageInfo"]["hasPreviousPage"]:
                break
            before = found["pageInfo"]["startCursor"]
        assert seen == whole
        # `first` before a cursor: the list's start up to it
        head = await page(first=2, before=whole[3])
        assert [e["cursor"] for e in head["edges"]] == whole[:2]
        assert head["pageInfo"]["hasNextPage"] is True
        # `last` after a cursor: the list's end from it
        tail = await page(last=2, after=whole[0])
        assert [e["cursor"] for e in tail["edges"]] == whole[-2:]
        assert tail["pageInfo"]["hasPreviousPage"] is True


# --- flags, edges of the list, refusals -----------------------------------------------------


async def test_last_without_before_is_the_lists_end_and_flags_are_exact(api: Api) -> None:
    await seed_companies(api, 5)
    walk = Walk(api, "companies", {"field": "NAME", "direction": "ASC"})
    whole = await walk.whole()
    end = await walk.page(last=2)
    assert [e["cursor"] for e in end["edges"]] == [c for _, c in whole[-2:]]
    assert end["pageInfo"]["hasPreviousPage"] is True
    assert end["pageInfo"]["hasNextPage"] is False
    everything = await walk.page(last=5)
    assert everything["pageInfo"]["hasPreviousPage"] is False
    more_than_all = await walk.page(last=9)
    assert len(more_than_all["edges"]) == 5
    assert more_than_all["pageInfo"]["hasPreviousPage"] is False
    # the rows just before a cursor, in the list's order
    before_last = await walk.page(last=2, before=whole[-1][1])
    assert [e["cursor"] for e in before_last["edges"]] == [c for _, c in whole[-3:-1]]
    assert before_last["pageInfo"]["hasNextPage"] is True
    assert before_last["pageInfo"]["hasPreviousPage"] is True
    before_first = await walk.page(last=2, before=whole[0][1])
    assert before_first["edges"] == []
    assert before_first["pageInfo"]["hasPreviousPage"] is False
    assert before_first["pageInfo"]["hasNextPage"] is True
    # `first` before a cursor: from the start up to it; `last` after one: from it to the end
    head = await walk.page(first=2, before=whole[3][1])
    assert [e["cursor"] for e in head["edges"]] == [c for _, c in whole[:2]]
    assert head["pageInfo"]["hasNextPage"] is True
    assert head["pageInfo"]["hasPreviousPage"] is False
    tail = await walk.page(last=2, after=whole[0][1])
    assert [e["cursor"] for e in tail["edges"]] == [c for _, c in whole[-2:]]
    assert tail["pageInfo"]["hasPreviousPage"] is True
    assert tail["pageInfo"]["hasNextPage"] is False
    zero = await walk.page(last=0)
    assert zero["edges"] == [] and zero["pageInfo"]["hasPreviousPage"] is True


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"first": 2, "last": 2}, "last"),
        ({"after": "x", "before": "y"}, "before"),
        ({"last": -1}, "last"),
        ({"last": 201}, "last"),
        ({"last": 2, "before": "bm90IGEgY3Vyc29y"}, "before"),
        ({"last": 2, "before": "%%%"}, "before"),
        ({"first": 2, "after": "WyJuYW1lIiwiYSIsIngiXQ"}, "after"),
    ],
)
async def test_bad_paging_arguments_are_refused(
    api: Api, arguments: dict[str, Any], field: str
) -> None:
    result = await api(page_query("companies", order=False), arguments)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert error_fields(result) == {field}
    assert result["data"] is None


async def test_a_cursor_of_another_list_or_order_is_refused_both_ways(api: Api) -> None:
    companies = await seed_companies(api, 2)
    await api.data(CREATE_CONTACT, {"i": {"lastName": "Gleich", "companyId": companies[0]}})
    await api.data(
        'mutation { createPipeline(input: {name: "Gleich", stages: [{name: "A"}]}) { id } }'
    )
    by_name = {"field": "NAME", "direction": "ASC"}
    company_cursor = (await Walk(api, "companies", by_name).whole())[0][1]
    pipeline_cursor = (await Walk(api, "pipelines", by_name).whole())[0][1]
    created_cursor = (
        await Walk(api, "companies", {"field": "CREATED_AT", "direction": "ASC"}).whole()
    )[0][1]
    for root, cursor in (
        ("contacts", company_cursor),  # the same order name and value type, another list
        ("pipelines", company_cursor),
        ("companies", pipeline_cursor),
        ("companies", created_cursor),  # another order of the same list
    ):
        for arguments in ({"first": 1, "after": cursor}, {"last": 1, "before": cursor}):
            variables = {**arguments, "order": by_name}
            result = await api(page_query(root), variables)
            assert error_codes(result) == ["BAD_USER_INPUT"], (root, arguments)
            assert error_fields(result) == set(arguments) - {"first", "last"}


async def test_backward_pages_cost_one_statement_like_forward_ones(
    api: Api, sql: StatementCounter, compiled_sql: StatementCounter
) -> None:
    companies = await seed_companies(api, 4)
    await seed_deals(api, companies, 4)
    walk = Walk(api, "deals", {"field": "COMPANY_NAME", "direction": "DESC"})
    whole = await walk.whole()
    for arguments in ({"first": 2, "after": whole[0][1]}, {"last": 2, "before": whole[-1][1]}):
        sql.statements.clear()
        compiled_sql.statements.clear()
        await walk.page(**arguments)
        assert sql.count == 1, sql.statements
        assert compiled_sql.count == 1, compiled_sql.statements
