"""Shared subscriptions: sockets subscribed to the same (document, variables, tenant) get one
evaluation per event, and each still passes its own checks and keeps its own limits."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

from sqlalchemy import event

from tests.conftest import Api, StatementCounter
from tests.live import graphql_socket
from tests.test_deals import deal, pipeline
from tests.test_subscriptions import DEAL_CHANGED


async def subscribed(stack: AsyncExitStack, live: str, token: str, board: str) -> Any:
    socket = await stack.enter_async_context(graphql_socket(live))
    await socket.init(token)
    await socket.subscribe(DEAL_CHANGED, {"p": board})
    return socket


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
    reads = [s for s in deal_reads(sql) if "deal.id IN" in s]
    assert len(reads) == 1, reads


async def test_a_card_and_its_stage_are_read_in_one_transaction(
    api: Api, live: str, app: Any
) -> None:
    """Every event waits for its card before the first delivery: the stage comes in the
    card's transaction, not in one of its own from the executor's loader."""
    board = await pipeline(api)
    reads: list[tuple[str, Any]] = []  # statement and its transaction, kept alive

    def record(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "deal.id IN" in statement or "pipeline_stage.id IN" in statement:
            reads.append((statement, conn.get_transaction()))

    engine = app.state.runtime.engine.sync_engine
    async with graphql_socket(live) as socket:
        await socket.init(api.token())
        await socket.subscribe(DEAL_CHANGED, {"p": board["id"]})
        await asyncio.sleep(0.3)
        event.listen(engine, "before_cursor_execute", record)
        try:
            await deal(api, pipelineId=board["id"])
            change = (await socket.next_data())["dealChanged"]
        finally:
            event.remove(engine, "before_cursor_execute", record)
    assert change["deal"]["stage"]["name"] == "Qualifizierung"
    [card_at] = [i for i, (s, _) in enumerate(reads) if "deal.id IN" in s]
    card_transaction = reads[card_at][1]
    stage_reads = [t for s, t in reads[card_at:] if "pipeline_stage.id IN" in s]
    assert stage_reads, reads
    assert all(t is card_transaction for t in stage_reads), reads


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
