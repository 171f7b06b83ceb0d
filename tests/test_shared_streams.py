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
