"""Reopening a WON/LOST deal returns it to the open stage it was in when it closed (if that is
still an open stage of its pipeline; else to the first open stage)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.test_domain_rules import UPDATE_DEAL, board
from tests.test_events import events, last_id

STAGES = [
    {"name": "Neu"},
    {"name": "Angebot", "probability": 50},
    {"name": "Verhandlung", "probability": 80},
    {"name": "Gewonnen", "kind": "WON", "probability": 100},
    {"name": "Verloren", "kind": "LOST"},
]
CREATE = "mutation($i: CreateDealInput!) { createDeal(input: $i) { id stage { name } } }"
MOVE = """mutation($id: ID!, $s: ID!, $r: LostReason) {
  moveDealToStage(id: $id, stageId: $s, lostReason: $r) { status stage { name } } }"""


async def open_deal(api: Api, pipeline: dict[str, Any], stage: str) -> str:
    data = await api.data(
        CREATE,
        {
            "i": {
                "title": "Wartung",
                "pipelineId": pipeline["id"],
                "stageId": pipeline["by_name"][stage],
            }
        },
    )
    deal_id: str = data["createDeal"]["id"]
    return deal_id


async def update(api: Api, deal_id: str, **fields: Any) -> dict[str, Any]:
    updated: dict[str, Any] = (await api.data(UPDATE_DEAL, {"id": deal_id, "i": fields}))[
        "updateDeal"
    ]
    return updated


async def test_reopening_returns_the_deal_to_the_stage_it_was_in(api: Api) -> None:
    pipeline = await board(api, stages=STAGES)
    stages = pipeline["by_name"]
    deal_id = await open_deal(api, pipeline, "Verhandlung")
    won = await update(api, deal_id, status="WON")
    assert (won["status"], won["stage"]["name"]) == ("WON", "Gewonnen")
    before = await last_id(api)

    reopened = await update(api, deal_id, status="OPEN")

    assert (reopened["status"], reopened["stage"]["name"]) == ("OPEN", "Verhandlung")
    assert reopened["closedAt"] is None
    happened = await events(api, after=before, first=10)
    assert [e["type"] for e in happened] == [
        "crm.deal.updated",
        "crm.deal.stage_changed",
        "crm.deal.reopened",
    ]
    assert happened[0]["changes"]["stageId"] == [stages["Gewonnen"], stages["Verhandlung"]]
    assert happened[0]["changes"]["status"] == ["WON", "OPEN"]
    # What the deal remembers is no field of the API and no change of its own.
    assert "lastOpenStageId" not in happened[0]["changes"]


async def test_a_deal_won_then_lost_still_reopens_where_it_was_open(api: Api) -> None:
    pipeline = await board(api, stages=STAGES)
    deal_id = await open_deal(api, pipeline, "Angebot")
    moved = await api.data(MOVE, {"id": deal_id, "s": pipeline["by_name"]["Gewonnen"]})
    assert moved["moveDealToStage"]["status"] == "WON"
    lost = await api.data(MOVE, {"id": deal_id, "s": pipeline["by_name"]["Verloren"], "r": "PRICE"})
    assert lost["moveDealToStage"]["status"] == "LOST"
    assert (await update(api, deal_id, status="OPEN"))["stage"]["name"] == "Angebot"
    # Closed again from there and reopened: the stage it was in the second time.
    await update(api, deal_id, stageId=pipeline["by_name"]["Neu"])
    await update(api, deal_id, status="LOST", lostReason="TIMING")
    assert (await update(api, deal_id, status="OPEN"))["stage"]["name"] == "Neu"


async def test_a_stage_that_is_gone_or_no_longer_open_sends_it_to_the_first_open_stage(
    api: Api,
) -> None:
    pipeline = await board(api, stages=STAGES)
    stages = pipeline["by_name"]
    removed = await open_deal(api, pipeline, "Verhandlung")
    rekinded = await open_deal(api, pipeline, "Angebot")
    await update(api, removed, status="WON")
    await update(api, rekinded, status="WON")
    await api.data(
        "mutation($id: ID!) { removePipelineStage(id: $id) { removedId } }",
        {"id": stages["Verhandlung"]},
    )
    await api.data(
        "mutation($id: ID!) { updatePipelineStage(id: $id, input: {kind: LOST}) { stage { id } } }",
        {"id": stages["Angebot"]},
    )
    assert (await update(api, removed, status="OPEN"))["stage"]["name"] == "Neu"
    assert (await update(api, rekinded, status="OPEN"))["stage"]["name"] == "Neu"


async def test_a_deal_that_changed_pipeline_while_closed_reopens_in_its_new_one(api: Api) -> None:
    first = await board(api, "Vertrieb", STAGES)
    second = await board(api, "Service", [{"name": "Eingang"}, {"name": "Erledigt", "kind": "WON"}])
    deal_id = await open_deal(api, first, "Verhandlung")
    await update(api, deal_id, status="WON")
    moved = await update(api, deal_id, pipelineId=second["id"])
    assert moved["stage"]["name"] == "Erledigt"
    assert (await update(api, deal_id, status="OPEN"))["stage"]["name"] == "Eingang"
