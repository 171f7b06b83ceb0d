"""The board summary's figures (`stage_figure`, alembic 0020): kept by the database on every
path that changes a deal's stage, value, currency, existence or trash state, and on a stage's
probability change; equal to a fresh aggregate over the deals after each. Concurrent writers:
tests/test_stage_figure_locks.py."""

from __future__ import annotations

import asyncio
import re
import uuid
from decimal import Decimal
from typing import Any

import asyncpg
from alembic import command

from app.migrations import alembic_config, upgrade_to_head
from tests.conftest import Api, Servers, StatementCounter, _asyncpg_dsn
from tests.test_deals import MOVE, UPDATE_DEAL, deal, pipeline, stage
from tests.test_merges import create_company, merge
from tests.test_privacy import ERASE

Figures = dict[tuple[str, str], tuple[int, Decimal, Decimal]]

# Per (stage, currency) of the tenant: what the maintained rows add up to. A currency whose
# rows add up to no deal must add up to nothing else either; it is left out, as the summary does.
MAINTAINED = """
SELECT stage_id::text, currency, sum(deal_count) AS deals, sum(value_sum) AS total,
       sum(weighted_sum) AS weighted
FROM stage_figure WHERE tenant_id = $1 GROUP BY stage_id, currency"""
# The aggregate the summary computed before (main's stage_summaries), over the live deals.
FRESH = """
SELECT d.stage_id::text, d.currency, count(*) AS deals, sum(d.value) AS total,
       sum(round(d.value * s.probability / 100, 2)) AS weighted
FROM deal d JOIN pipeline_stage s ON s.id = d.stage_id
WHERE d.tenant_id = $1 AND d.deleted_at IS NULL GROUP BY d.stage_id, d.currency"""
SUMMARY = """query($id: ID!) { pipeline(id: $id) { summary { stageId dealCount
  total { amount currency } weighted { amount currency } } } }"""


async def tenant_id(api: Api) -> uuid.UUID:
    return uuid.UUID((await api.data("{ me { tenant { id } } }"))["me"]["tenant"]["id"])


async def figures(servers: Servers, tenant: uuid.UUID) -> tuple[Figures, Figures]:
    """(maintained, fresh), as the tables' owner."""
    connection = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    try:
        found = []
        for statement in (MAINTAINED, FRESH):
            rows = await connection.fetch(statement, tenant)
            found.append({(r[0], r[1]): (r["deals"], r["total"], r["weighted"]) for r in rows})
    finally:
        await connection.close()
    maintained, fresh = found
    for key, (deals, total, weighted) in list(maintained.items()):
        if deals == 0:
            assert (total, weighted) == (0, 0), key
            del maintained[key]
    return maintained, fresh


async def consistent(servers: Servers, api: Api) -> Figures:
    """The maintained figures equal a fresh aggregate over the deals; returns them."""
    maintained, fresh = await figures(servers, await tenant_id(api))
    assert maintained == fresh
    return maintained


async def summary_of(api: Api, pipeline_id: str) -> dict[str, Any]:
    data = await api.data(SUMMARY, {"id": pipeline_id})
    return {s["stageId"]: s for s in data["pipeline"]["summary"]}


def as_summary(fresh: Figures, stage_id: str) -> dict[str, Any]:
    """What the summary answered before, from the aggregate over the deals."""
    rows = sorted((currency, v) for (s, currency), v in fresh.items() if s == stage_id)
    return {
        "stageId": stage_id,
        "dealCount": sum(v[0] for _, v in rows),
        "total": [{"amount": str(v[1]), "currency": c} for c, v in rows],
        "weighted": [{"amount": str(v[2]), "currency": c} for c, v in rows],
    }


async def test_the_summary_answers_what_the_aggregate_over_the_deals_did(
    api: Api, servers: Servers, sql: StatementCounter
) -> None:
    board = await pipeline(api)
    offer, won = stage(board, "Angebot"), stage(board, "Gewonnen")
    # Values whose weights round (half up) one by one: 0.005 -> 0.01, 0.015 -> 0.02.
    for value, currency in (("0.01", "EUR"), ("0.03", "EUR"), ("1000", "EUR"), ("0.01", "CHF")):
        await deal(api, value=value, currency=currency, stageId=offer)
    await deal(api, value="70", stageId=won)
    fresh = await consistent(servers, api)
    sql.statements.clear()
    summary = await summary_of(api, board["id"])
    # The pipeline, then one statement for the figures that reads no deal row.
    assert [("stage_figure" in s, bool(re.search(r"\bdeal\b", s))) for s in sql.statements] == [
        (False, False),
        (True, False),
    ]
    assert summary[offer] == as_summary(fresh, offer)
    assert summary[offer]["weighted"] == [
        {"amount": "0.01", "currency": "CHF"},
        {"amount": "500.03", "currency": "EUR"},
    ]
    assert summary[won] == as_summary(fresh, won)
    empty = stage(board, "Qualifizierung")
    assert summary[empty] == {"stageId": empty, "dealCount": 0, "total": [], "weighted": []}


async def test_creates_updates_moves_and_the_trash_keep_the_figures(
    api: Api, servers: Servers
) -> None:
    board = await pipeline(api)
    offer, lost = stage(board, "Angebot"), stage(board, "Verloren")
    first = await deal(api, value="100.05", stageId=offer)
    second = await deal(api, value="40", currency="USD", stageId=offer)
    await consistent(servers, api)
    for change in ({"value": "333.33"}, {"currency": "CHF"}, {"status": "WON"}):
        await api.data(UPDATE_DEAL, {"id": first["id"], "i": change})
        await consistent(servers, api)
    await api.data(UPDATE_DEAL, {"id": first["id"], "i": {"title": "Nur der Titel"}})
    await api.data(MOVE, {"id": second["id"], "s": lost, "r": "PRICE"})
    await consistent(servers, api)
    await api.data(MOVE, {"id": second["id"], "s": offer})
    await consistent(servers, api)
    delete, restore, purge = (
        "mutation($id: ID!) { deleteDeal(id: $id) }",
        "mutation($id: ID!) { restoreDeal(id: $id) { id } }",
        "mutation($id: ID!) { purgeDeal(id: $id) }",
    )
    await api.data(delete, {"id": second["id"]})
    fresh = await consistent(servers, api)
    summary = await summary_of(api, board["id"])
    assert summary == {stage_id: as_summary(fresh, stage_id) for stage_id in summary}
    assert summary[offer]["dealCount"] == 0  # trashed: not counted
    await api.data(restore, {"id": second["id"]})
    assert (await summary_of(api, board["id"]))[offer]["dealCount"] == 1
    await api.data(delete, {"id": second["id"]})
    await api.data(purge, {"id": second["id"]})
    assert await consistent(servers, api) == {
        (stage(board, "Gewonnen"), "CHF"): (1, Decimal("333.33"), Decimal("333.33"))
    }


async def test_merges_and_erasure_move_no_figure(api: Api, servers: Servers) -> None:
    board = await pipeline(api)
    survivor, merged = await create_company(api, "Bleibt AG"), await create_company(api, "Geht")
    await deal(api, value="10", stageId=stage(board, "Angebot"), companyId=survivor)
    await deal(api, value="20", stageId=stage(board, "Angebot"), companyId=merged)
    contact = await api.data(
        'mutation { createContact(input: {firstName: "Eva", lastName: "Muster"}) { id } }'
    )
    person = contact["createContact"]["id"]
    await deal(api, value="30", stageId=stage(board, "Gewonnen"), contactId=person)
    before = await consistent(servers, api)
    assert "errors" not in await merge(api, survivor, [merged])
    await api.data(ERASE, {"c": person})
    assert await consistent(servers, api) == before


async def test_a_stage_removed_and_a_pipeline_deleted_take_their_figures(
    api: Api, servers: Servers
) -> None:
    board = await pipeline(api)
    qualified, offer = stage(board, "Qualifizierung"), stage(board, "Angebot")
    await deal(api, value="15", stageId=qualified)
    trashed = await deal(api, value="999", stageId=qualified)
    await deal(api, value="25", stageId=offer)
    await api.data("mutation($id: ID!) { deleteDeal(id: $id) }", {"id": trashed["id"]})
    removed = await api.data(
        "mutation($id: ID!, $to: ID!) { removePipelineStage(id: $id, moveDealsTo: $to) { removedId } }",
        {"id": qualified, "to": offer},
    )
    assert removed["removePipelineStage"]["removedId"] == qualified
    assert await consistent(servers, api) == {(offer, "EUR"): (2, Decimal(40), Decimal(20))}
    await api.data("mutation($id: ID!) { deletePipeline(id: $id) }", {"id": board["id"]})
    assert await consistent(servers, api) == {}
    connection = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    try:
        left = await connection.fetchval(
            "SELECT count(*) FROM stage_figure WHERE tenant_id = $1", await tenant_id(api)
        )
    finally:
        await connection.close()
    assert left == 0  # not rows of zeros: gone with their stages


async def test_a_new_probability_reweights_the_stage(api: Api, servers: Servers) -> None:
    board = await pipeline(api)
    offer = stage(board, "Angebot")
    for value in ("0.01", "0.01", "0.01", "0.01", "99.99"):
        await deal(api, value=value, stageId=offer)
    reweighted = await api.data(
        "mutation($id: ID!) { updatePipelineStage(id: $id, input: {probability: 33}) "
        "{ pipeline { summary { stageId weighted { amount } } } } }",
        {"id": offer},
    )
    summary = reweighted["updatePipelineStage"]["pipeline"]["summary"]
    fresh = await consistent(servers, api)
    # Deal by deal: 4 x 0.00 (0.0033) + 33.00 (32.9967); not 33.01, the weight of the sum.
    assert fresh[(offer, "EUR")][2] == Decimal("33.00")
    assert next(s for s in summary if s["stageId"] == offer)["weighted"] == [{"amount": "33.00"}]


async def test_a_statement_of_many_deals_is_counted_once_per_stage(
    api: Api, servers: Servers
) -> None:
    """As bench/generate.py's COPY, or a bulk UPDATE: one statement, many deals."""
    board = await pipeline(api)
    tenant = await tenant_id(api)
    offer, won = stage(board, "Angebot"), stage(board, "Gewonnen")
    connection = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    try:
        await connection.execute(
            "INSERT INTO deal (tenant_id, title, pipeline_id, stage_id, value, currency) "
            "SELECT $1, 'Viele ' || n, $2, $3, n * 1.11, "
            "CASE WHEN n % 3 = 0 THEN 'CHF' ELSE 'EUR' END FROM generate_series(1, 40) n",
            tenant,
            uuid.UUID(board["id"]),
            uuid.UUID(offer),
        )
        await consistent(servers, api)
        await connection.execute(
            "UPDATE deal SET stage_id = $2, value = value + 0.5 WHERE tenant_id = $1 "
            "AND title LIKE 'Viele 1%'",
            tenant,
            uuid.UUID(won),
        )
        await connection.execute(
            "UPDATE deal SET deleted_at = now() WHERE tenant_id = $1 AND title LIKE 'Viele 2%'",
            tenant,
        )
        await connection.execute("DELETE FROM deal WHERE tenant_id = $1 AND value > 40", tenant)
        rows = await connection.fetchval(
            "SELECT count(*) FROM stage_figure WHERE tenant_id = $1", tenant
        )
    finally:
        await connection.close()
    assert len(await consistent(servers, api)) == 4
    assert rows == 4  # one writer at a time: one row per (stage, currency)


async def test_the_migration_counts_the_deals_already_there(scratch_database_url: str) -> None:
    """Deals written before 0020 (one in the trash, two currencies, weights that round)."""
    config = alembic_config(scratch_database_url)
    await asyncio.to_thread(command.upgrade, config, "0018")
    connection = await asyncpg.connect(_asyncpg_dsn(scratch_database_url))
    try:
        tenant, board = uuid.uuid4(), uuid.uuid4()
        await connection.execute(
            "INSERT INTO tenant (id, slug, name) VALUES ($1, 'vorher', 'Vorher')", tenant
        )
        await connection.execute(
            "INSERT INTO pipeline (id, tenant_id, name) VALUES ($1, $2, 'Alt')", board, tenant
        )
        stages = []
        for position, probability in enumerate((25, 50)):
            stages.append(
                await connection.fetchval(
                    "INSERT INTO pipeline_stage (tenant_id, pipeline_id, name, position, "
                    "probability) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    tenant,
                    board,
                    f"Stufe {position}",
                    position,
                    probability,
                )
            )
        for stage_id, value, currency, trashed in (
            (stages[0], "0.02", "EUR", False),
            (stages[0], "0.02", "EUR", False),
            (stages[0], "10.00", "CHF", False),
            (stages[1], "99.99", "EUR", False),
            (stages[1], "500.00", "EUR", True),
        ):
            await connection.execute(
                "INSERT INTO deal (tenant_id, title, pipeline_id, stage_id, value, currency, "
                "deleted_at) VALUES ($1, 'Alt', $2, $3, $4, $5, "
                "CASE WHEN $6 THEN now() END)",
                tenant,
                board,
                stage_id,
                Decimal(value),
                currency,
                trashed,
            )
        await asyncio.to_thread(upgrade_to_head, scratch_database_url)
        maintained = {
            (r["stage_id"], r["currency"]): (r["deals"], r["total"], r["weighted"])
            for r in await connection.fetch(MAINTAINED, tenant)
        }
        fresh = {
            (r["stage_id"], r["currency"]): (r["deals"], r["total"], r["weighted"])
            for r in await connection.fetch(FRESH, tenant)
        }
    finally:
        await connection.close()
    assert maintained == fresh
    assert fresh[(str(stages[0]), "EUR")] == (2, Decimal("0.04"), Decimal("0.02"))
    assert fresh[(str(stages[1]), "EUR")] == (1, Decimal("99.99"), Decimal("50.00"))
