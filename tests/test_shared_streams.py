"""Shared subscriptions: sockets subscribed to the same (document, variables, tenant) get one
evaluation per event, and each still passes its own checks and keeps its own limits."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

from tests.conftest import Api, StatementCounter
from tests.live import graphql_socket
from tests.test_deals import deal, pipeline
from tests.test_subscriptions import DEAL_CHANGED


async def subscribed(stack: AsyncExitStack, live: str, token: str, board: str) -> Any:
    socket = await stack.enter_async_context(graphql_socket(live))
    await socket.init(token)
    await socket.subscribe(DEAL_CHANGED, {"p": board})
    return socket


# The board's read of a card: the deal joined with its stage.
CARD_READ = "FROM deal LEFT OUTER JOIN pipeline_stage"


def deal_reads(sql: StatementCounter) -> list[str]:
    return [s for s in sql.statements if s.lstrip().startswith("SELECT") and "FROM deal" in s]


async def test_one_evaluation_per_event_whatever_the_number_of_subscribers(
    api: Api, live: str, sql: StatementCounter
) -> None:
    board = await pipeline(api)
    async with AsyncExitStack() as stack:
        sockets = [await subscribed(stack, live, api.token(), board["id"]) for _ in range(4)]
        await asyncio.sleep(0.3)
        sql.statements.clear()
        created = await deal(api, pipelineId=board["id"], title="Geteilt")
        changes = [(await s.next_data())["dealChanged"] for s in sockets]
    assert {c["dealId"] for c in changes} == {created["id"]}
    assert all(c["deal"]["title"] == "Geteilt" for c in changes)
    # The mutation reads no deal row back by id; the board reads it (and its stage) once.
    reads = [s for s in deal_reads(sql) if CARD_READ in s]
    assert len(reads) == 1, reads


RENAME = 'mutation($id: ID!) { updateDeal(id: $id, input: {title: "Neu"}) { id } }'


async def test_a_card_and_its_stage_are_read_in_one_statement(
    api: Api, live: str, sql: StatementCounter
) -> None:
    """Every event waits for its card before the first delivery: the stage comes with the
    deal, not from a statement (or the executor loader's transaction) of its own. The rename
    itself reads no stage, so every stage read here would be the board's."""
    board = await pipeline(api)
    created = await deal(api, pipelineId=board["id"])
    async with graphql_socket(live) as socket:
        await socket.init(api.token())
        await socket.subscribe(DEAL_CHANGED, {"p": board["id"]})
        await asyncio.sleep(0.3)
        sql.statements.clear()
        await api.data(RENAME, {"id": created["id"]})
        change = (await socket.next_data())["dealChanged"]
    assert change["deal"]["title"] == "Neu"
    assert change["deal"]["stage"]["name"] == "Qualifizierung"
    assert len([s for s in sql.statements if CARD_READ in s]) == 1, sql.statements
    stage_reads = [s for s in sql.statements if "FROM pipeline_stage" in s]
    assert stage_reads == [], stage_reads


async def test_the_stream_outlives_the_socket_that_started_it(api: Api, live: str) -> None:
    board = await pipeline(api)
    async with graphql_socket(live) as late:
        async with graphql_socket(live) as first:
            await first.init(api.token())
            await first.subscribe(DEAL_CHANGED, {"p": board["id"]})
            await asyncio.sleep(0.2)
            await late.init(api.token())
            await late.subscribe(DEAL_CHANGED, {"p": board["id"]})
            await asyncio.sleep(0.2)
        created = await deal(api, pipelineId=board["id"])
        assert (await late.next_data())["dealChanged"]["dealId"] == created["id"]


async def test_each_socket_keeps_its_own_subscription_limit(api: Api, live: str, app: Any) -> None:
    board = await pipeline(api)
    limit = app.state.runtime.settings.ws_max_subscriptions
    async with graphql_socket(live) as socket:
        await socket.init(api.token())
        for _ in range(limit + 1):
            await socket.subscribe(DEAL_CHANGED, {"p": board["id"]})
        message = await socket.receive()
    assert "RATE_LIMITED" in str(message), message
