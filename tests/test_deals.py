"""Pipelines with ordered stages, deals and their stage/status/lost-reason rules."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import Api, StatementCounter, error_codes, error_fields

STAGES = [
    {"name": "Qualifizierung", "probability": 10},
    {"name": "Angebot", "probability": 50},
    {"name": "Gewonnen", "probability": 100, "kind": "WON"},
    {"name": "Verloren", "probability": 0, "kind": "LOST"},
]
PIPELINE = """mutation($i: CreatePipelineInput!) { createPipeline(input: $i) {
  id name isDefault stages { id name position probability kind } } }"""
DEAL_FIELDS = """id title value currency status lostReason lostReasonText closedAt version
stage { id name kind } pipeline { id } owners { role user { id } } company { name }"""
CREATE_DEAL = f"mutation($i: CreateDealInput!) {{ createDeal(input: $i) {{ {DEAL_FIELDS} }} }}"
UPDATE_DEAL = f"""mutation($id: ID!, $i: UpdateDealInput!) {{
  updateDeal(id: $id, input: $i) {{ {DEAL_FIELDS} }} }}"""
MOVE = f"""mutation($id: ID!, $s: ID!, $r: LostReason, $t: String) {{
  moveDealToStage(id: $id, stageId: $s, lostReason: $r, lostReasonText: $t) {{
    {DEAL_FIELDS} }} }}"""


async def pipeline(
    api: Api, name: str = "Vertrieb", tenant: str | None = None, **extra: Any
) -> dict[str, Any]:
    variables = {"i": {"name": name, "stages": STAGES, **extra}}
    data = await api.data(PIPELINE, variables, tenant=tenant)
    created: dict[str, Any] = data["createPipeline"]
    return created


def stage(board: dict[str, Any], name: str) -> str:
    found: str = next(s["id"] for s in board["stages"] if s["name"] == name)
    return found


async def deal(api: Api, **fields: Any) -> dict[str, Any]:
    data = await api.data(CREATE_DEAL, {"i": {"title": "Rahmenvertrag", **fields}})
    created: dict[str, Any] = data["createDeal"]
    return created


async def test_first_pipeline_is_the_default_and_the_default_can_move(api: Api) -> None:
    first = await pipeline(api)
    assert first["isDefault"] is True
    assert [(s["name"], s["position"]) for s in first["stages"]] == [
        ("Qualifizierung", 0),
        ("Angebot", 1),
        ("Gewonnen", 2),
        ("Verloren", 3),
    ]
    second = await pipeline(api, "Service", isDefault=True)
    listed = await api.data("{ pipelines { totalCount edges { node { name isDefault } } } }")
    assert [e["node"] for e in listed["pipelines"]["edges"]] == [
        {"name": "Service", "isDefault": True},
        {"name": "Vertrieb", "isDefault": False},
    ]
    default = await api.data("{ defaultPipeline { name } }")
    assert default["defaultPipeline"] == {"name": "Service"}
    assert second["isDefault"]


async def test_pipelines_are_written_by_admins_only(api: Api) -> None:
    result = await api(PIPELINE, {"i": {"name": "X", "stages": STAGES}}, role="member")
    assert error_codes(result) == ["FORBIDDEN"]


@pytest.mark.parametrize(
    ("stages", "bad"),
    [
        ([], "stages"),
        ([{"name": "A"}, {"name": "a"}], "stages[1].name"),
        ([{"name": "A", "probability": 101}], "stages[0].probability"),
    ],
)
async def test_invalid_pipeline_is_refused(api: Api, stages: list[Any], bad: str) -> None:
    result = await api(PIPELINE, {"i": {"name": "X", "stages": stages}})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert bad in error_fields(result)
    assert (await api.data("{ pipelines { totalCount } }"))["pipelines"]["totalCount"] == 0


async def test_stages_are_added_reordered_and_renamed(api: Api) -> None:
    board = await pipeline(api)
    add = """mutation($p: ID!) { addPipelineStage(pipelineId: $p, position: 1,
      input: {name: "Demo", probability: 30}) { stage { id position } } }"""
    demo = (await api.data(add, {"p": board["id"]}))["addPipelineStage"]["stage"]
    assert demo["position"] == 1
    order = [
        stage(board, "Verloren"),
        demo["id"],
        stage(board, "Qualifizierung"),
        stage(board, "Angebot"),
        stage(board, "Gewonnen"),
    ]
    reorder = """mutation($p: ID!, $s: [ID!]!) {
      reorderPipelineStages(pipelineId: $p, stageIds: $s) { id stages { id } } }"""
    reordered = (await api.data(reorder, {"p": board["id"], "s": order}))["reorderPipelineStages"]
    assert reordered["id"] == board["id"]
    assert [s["id"] for s in reordered["stages"]] == order
    incomplete = await api(reorder, {"p": board["id"], "s": order[:-1]})
    assert error_codes(incomplete) == ["BAD_USER_INPUT"]
    rename = (
        'mutation($id: ID!) { updatePipelineStage(id: $id, input: {name: "Vorführung"}) {'
        " stage { name } } }"
    )
    assert (await api.data(rename, {"id": demo["id"]}))["updatePipelineStage"] == {
        "stage": {"name": "Vorführung"}
    }


async def test_stage_with_deals_is_removed_only_with_a_target(api: Api) -> None:
    board = await pipeline(api)
    other = await pipeline(api, "Service")
    created = await deal(api, stageId=stage(board, "Angebot"))
    remove = """mutation($id: ID!, $to: ID) {
      removePipelineStage(id: $id, moveDealsTo: $to) { removedId } }"""
    refused = await api(remove, {"id": stage(board, "Angebot")})
    assert error_codes(refused) == ["CONFLICT"]
    assert refused["errors"][0]["extensions"]["dealCount"] == 1
    wrong = await api(remove, {"id": stage(board, "Angebot"), "to": stage(other, "Angebot")})
    assert error_codes(wrong) == ["BAD_USER_INPUT"]
    await api.data(remove, {"id": stage(board, "Angebot"), "to": stage(board, "Qualifizierung")})
    moved = await api.data(
        "query($id: ID!) { deal(id: $id) { stage { name } } }", {"id": created["id"]}
    )
    assert moved["deal"]["stage"]["name"] == "Qualifizierung"
    empty = await api.data(remove, {"id": stage(board, "Verloren")})
    assert empty["removePipelineStage"] == {"removedId": stage(board, "Verloren")}


async def test_a_stage_removal_locks_its_deals_before_the_stages(
    api: Api, sql: StatementCounter
) -> None:
    """A deal write holds its deal and then reaches the stage row (moveDealToStage's stage lock,
    the foreign key of a new board figure): the removal takes the locks in that order too."""
    board = await pipeline(api)
    await deal(api, stageId=stage(board, "Angebot"))
    sql.statements.clear()
    remove = """mutation($id: ID!, $to: ID) {
      removePipelineStage(id: $id, moveDealsTo: $to) { removedId } }"""
    await api.data(remove, {"id": stage(board, "Angebot"), "to": stage(board, "Qualifizierung")})
    locks = [s for s in sql.statements if "FOR UPDATE" in s or "FOR SHARE" in s]
    tables = [re.search(r"FROM (\w+)", s).group(1) for s in locks]  # type: ignore[union-attr]
    assert "pipeline_stage" in tables
    assert tables[0] == "deal", tables


async def test_new_deal_goes_to_the_default_pipelines_first_open_stage(api: Api) -> None:
    board = await pipeline(api)
    me = (await api.data("{ me { user { id } } }"))["me"]["user"]["id"]
    created = await deal(api, value="12500.50", owners=[{"userId": me, "role": "OWNER"}])
    assert created["pipeline"]["id"] == board["id"]
    assert created["stage"]["name"] == "Qualifizierung"
    assert (created["value"], created["currency"], created["status"]) == ("12500.50", "EUR", "OPEN")
    assert created["owners"] == [{"role": "OWNER", "user": {"id": me}}]


async def test_new_deal_with_two_owners_is_three_statements(
    api: Api, sql: StatementCounter
) -> None:
    await pipeline(api)
    me = (await api.data("{ me { user { id } } }"))["me"]["user"]["id"]
    colleague = (await api.data("{ me { user { id } } }", role="member"))["me"]["user"]["id"]
    owners = [{"userId": me, "role": "OWNER"}, {"userId": colleague, "role": "MEMBER"}]
    create = "mutation($i: CreateDealInput!) { createDeal(input: $i) { id title value } }"
    sql.statements.clear()
    created = await api.data(create, {"i": {"title": "Zwei", "owners": owners}})
    assert sql.count == 3, sql.statements  # the stages, the deal with its owners, the event
    deal_id = created["createDeal"]["id"]
    read = await api.data("query($id: ID!) { deal(id: $id) { owners { role user { id } } } }",
                          {"id": deal_id})  # fmt: skip
    assert sorted((o["user"]["id"], o["role"]) for o in read["deal"]["owners"]) == sorted(
        (o["userId"], o["role"]) for o in owners
    )


async def test_new_deal_with_a_stranger_as_owner_writes_nothing(api: Api, tenant: str) -> None:
    await pipeline(api)
    me = (await api.data("{ me { user { id } } }"))["me"]["user"]["id"]
    stranger = (await api.data("{ me { user { id } } }", tenant=f"{tenant}-x"))["me"]["user"]["id"]
    result = await api(
        CREATE_DEAL, {"i": {"title": "X", "owners": [{"userId": me}, {"userId": stranger}]}}
    )
    assert error_codes(result) == ["NOT_FOUND"]
    assert result["errors"][0]["message"] == "User not found."
    assert (await api.data("{ deals { totalCount } }"))["deals"]["totalCount"] == 0


async def test_deal_without_any_pipeline_is_a_clear_error(api: Api) -> None:
    result = await api(CREATE_DEAL, {"i": {"title": "X"}})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert "pipelineId" in error_fields(result)


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"title": ""}, "title"),
        ({"value": "-1"}, "value"),
        ({"value": "1.234"}, "value"),
        ({"currency": "EUO"}, "currency"),
        ({"lostReason": "PRICE"}, "lostReason"),
    ],
)
async def test_invalid_deal_is_refused(api: Api, fields: dict[str, Any], bad: str) -> None:
    await pipeline(api)
    result = await api(CREATE_DEAL, {"i": {"title": "X", **fields}})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert bad in error_fields(result)
    assert (await api.data("{ deals { totalCount } }"))["deals"]["totalCount"] == 0


async def test_stage_must_belong_to_the_deals_pipeline(api: Api, tenant: str) -> None:
    board, other = await pipeline(api), await pipeline(api, "Service")
    result = await api(
        CREATE_DEAL,
        {"i": {"title": "X", "pipelineId": board["id"], "stageId": stage(other, "Angebot")}},
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert "stageId" in error_fields(result)
    foreign = await api(
        CREATE_DEAL, {"i": {"title": "X", "pipelineId": board["id"]}}, tenant=f"{tenant}-z"
    )
    assert error_codes(foreign) == ["NOT_FOUND"]


async def test_board_moves_set_the_status_and_lost_needs_a_reason(api: Api) -> None:
    board = await pipeline(api)
    created = await deal(api)
    won = (await api.data(MOVE, {"id": created["id"], "s": stage(board, "Gewonnen")}))[
        "moveDealToStage"
    ]
    assert (won["status"], won["closedAt"] is not None) == ("WON", True)
    no_reason = await api(MOVE, {"id": created["id"], "s": stage(board, "Verloren")})
    assert error_codes(no_reason) == ["BAD_USER_INPUT"] and "lostReason" in error_fields(no_reason)
    no_text = await api(MOVE, {"id": created["id"], "s": stage(board, "Verloren"), "r": "OTHER"})
    assert "lostReasonText" in error_fields(no_text)
    lost = (
        await api.data(
            MOVE,
            {
                "id": created["id"],
                "s": stage(board, "Verloren"),
                "r": "OTHER",
                "t": "Budget eingefroren",
            },
        )
    )["moveDealToStage"]
    assert (lost["status"], lost["lostReason"], lost["lostReasonText"]) == (
        "LOST",
        "OTHER",
        "Budget eingefroren",
    )
    reopened = (await api.data(UPDATE_DEAL, {"id": created["id"], "i": {"status": "OPEN"}}))[
        "updateDeal"
    ]
    assert (reopened["status"], reopened["stage"]["name"]) == ("OPEN", "Qualifizierung")
    assert (reopened["lostReason"], reopened["lostReasonText"], reopened["closedAt"]) == (
        None,
        None,
        None,
    )


async def test_setting_the_status_moves_the_deal_to_a_stage_of_that_kind(api: Api) -> None:
    await pipeline(api)
    created = await deal(api)
    won = (await api.data(UPDATE_DEAL, {"id": created["id"], "i": {"status": "WON"}}))["updateDeal"]
    assert won["stage"]["name"] == "Gewonnen"
    lost = await api(UPDATE_DEAL, {"id": created["id"], "i": {"status": "LOST"}})
    assert error_codes(lost) == ["BAD_USER_INPUT"]
    unchanged = await api.data(
        "query($id: ID!) { deal(id: $id) { status } }", {"id": created["id"]}
    )
    assert unchanged["deal"]["status"] == "WON"


async def test_deal_list_filters_and_orders(api: Api) -> None:
    board = await pipeline(api)
    me = (await api.data("{ me { user { id } } }"))["me"]["user"]["id"]
    # Only "Groß" names an owner; the others name none (not even their creator).
    await deal(api, title="Klein", value="1000", owners=[])
    await deal(api, title="Groß", value="90000", owners=[{"userId": me}])
    await deal(api, title="Mittel", value="25000", stageId=stage(board, "Gewonnen"), owners=[])
    query = """query($f: DealFilter, $o: DealOrder) { deals(filter: $f, orderBy: $o) {
      totalCount edges { node { title } } } }"""

    async def titles(filter_: dict[str, Any], order: dict[str, Any] | None = None) -> list[str]:
        data = await api.data(query, {"f": filter_, "o": order})
        return [e["node"]["title"] for e in data["deals"]["edges"]]

    assert await titles({}, {"field": "VALUE", "direction": "DESC"}) == ["Groß", "Mittel", "Klein"]
    assert await titles({"status": ["OPEN"]}, {"field": "VALUE", "direction": "ASC"}) == [
        "Klein",
        "Groß",
    ]
    assert await titles({"valueMin": "20000", "valueMax": "50000"}) == ["Mittel"]
    assert await titles({"ownerId": me}) == ["Groß"]
    assert await titles({"stageId": stage(board, "Gewonnen")}) == ["Mittel"]


async def test_pipeline_summary_counts_and_weights_per_stage_and_currency(
    api: Api, sql: StatementCounter
) -> None:
    board = await pipeline(api)
    await deal(api, value="1000", stageId=stage(board, "Angebot"))
    await deal(api, value="3000", stageId=stage(board, "Angebot"))
    await deal(api, value="500", currency="CHF", stageId=stage(board, "Angebot"))
    query = """query($id: ID!) { pipeline(id: $id) { summary { stage { name } dealCount
      total { amount currency } weighted { amount currency } } } }"""
    sql.statements.clear()
    summary = (await api.data(query, {"id": board["id"]}))["pipeline"]["summary"]
    offer = next(s for s in summary if s["stage"]["name"] == "Angebot")
    assert offer["dealCount"] == 3
    assert offer["total"] == [
        {"amount": "500.00", "currency": "CHF"},
        {"amount": "4000.00", "currency": "EUR"},
    ]
    assert offer["weighted"] == [
        {"amount": "250.00", "currency": "CHF"},
        {"amount": "2000.00", "currency": "EUR"},
    ]
    empty = next(s for s in summary if s["stage"]["name"] == "Gewonnen")
    assert (empty["dealCount"], empty["total"]) == (0, [])
    assert sql.count == 3  # the pipeline, the aggregate, the stages


async def test_company_shows_its_deals_and_deleting_a_pipeline_deletes_them(api: Api) -> None:
    board = await pipeline(api)
    company = (await api.data('mutation { createCompany(input: {name: "Kunde AG"}) { id } }'))[
        "createCompany"
    ]["id"]
    created = await deal(api, companyId=company)
    assert created["company"] == {"name": "Kunde AG"}
    nested = await api.data(
        "query($id: ID!) { company(id: $id) { deals { edges { node { id } } } } }",
        {"id": company},
    )
    assert nested["company"]["deals"]["edges"] == [{"node": {"id": created["id"]}}]
    await api.data("mutation($id: ID!) { deletePipeline(id: $id) }", {"id": board["id"]})
    assert (await api.data("{ deals { totalCount } }"))["deals"]["totalCount"] == 0


async def test_another_tenants_deal_is_not_found(api: Api, tenant: str) -> None:
    board = await pipeline(api)
    created = await deal(api)
    other = f"{tenant}-q"
    for operation, variables in (
        ("query($id: ID!) { deal(id: $id) { id } }", {"id": created["id"]}),
        (MOVE, {"id": created["id"], "s": stage(board, "Gewonnen")}),
        ("mutation($id: ID!) { deleteDeal(id: $id) }", {"id": created["id"]}),
    ):
        assert error_codes(await api(operation, variables, tenant=other)) == ["NOT_FOUND"]


async def test_a_deal_cannot_move_into_another_tenants_pipeline(api: Api, tenant: str) -> None:
    board = await pipeline(api)
    created = await deal(api)
    theirs = await pipeline(api, "Fremd", tenant=f"{tenant}-p")
    missing = "00000000-0000-4000-8000-000000000000"
    answers = [
        await api(UPDATE_DEAL, {"id": created["id"], "i": {"pipelineId": pipeline_id}})
        for pipeline_id in (theirs["id"], missing)
    ]
    assert [error_codes(answer) for answer in answers] == [["NOT_FOUND"], ["NOT_FOUND"]]
    foreign, absent = (answer["errors"][0]["message"] for answer in answers)
    assert foreign == absent  # another tenant's pipeline is indistinguishable from none
    after = (await api.data("query($id: ID!) { deal(id: $id) { " + DEAL_FIELDS + " } }",
                            {"id": created["id"]}))["deal"]  # fmt: skip
    assert after == created
    assert after["pipeline"]["id"] == board["id"]


async def test_pipelines_filter_and_order(api: Api) -> None:
    for name in ("Service", "Vertrieb", "Projekte"):
        await pipeline(api, name)
    query = """query($f: PipelineFilter, $o: PipelineOrder) { pipelines(filter: $f, orderBy: $o) {
      totalCount edges { node { name } } } }"""
    newest = await api.data(query, {"o": {"field": "CREATED_AT", "direction": "DESC"}})
    assert [e["node"]["name"] for e in newest["pipelines"]["edges"]] == [
        "Projekte",
        "Vertrieb",
        "Service",
    ]
    found = await api.data(query, {"f": {"search": "trieb"}})
    assert found["pipelines"]["totalCount"] == 1
