"""The board summary's figures under concurrent writes (alembic 0020): writers into one stage
do not wait for each other; a stage's new probability and a writer weighting with the old
one wait for each other, in both orders; the tenant role sees its own figures only."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from tests.conftest import Api, Servers, _asyncpg_dsn
from tests.test_deals import MOVE, deal, pipeline, stage
from tests.test_orphaned_activities import until_waiting
from tests.test_stage_figures import consistent, summary_of, tenant_id

PROBABILITY_TO_20 = "UPDATE pipeline_stage SET probability = 20 WHERE id = $1"
INSERT_DEAL = """INSERT INTO deal (tenant_id, title, pipeline_id, stage_id, value, currency)
VALUES ($1, 'Direkt', $2, $3, $4, 'EUR')"""


@asynccontextmanager
async def as_tenant(servers: Servers, tenant: uuid.UUID) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the server makes one (the serving role, switched to crm_tenant) in a
    transaction left open until the block ends (then committed)."""
    connection = await asyncpg.connect(_asyncpg_dsn(servers.serving_url))
    transaction = connection.transaction()
    await transaction.start()
    try:
        await connection.execute(
            "SELECT set_config('app.tenant_id', $1, true), set_config('role', 'crm_tenant', true)",
            str(tenant),
        )
        yield connection
        await transaction.commit()
    except BaseException:
        await transaction.rollback()
        raise
    finally:
        await connection.close()


async def test_two_writers_into_one_stage_do_not_wait_for_each_other(
    api: Api, servers: Servers
) -> None:
    """The first holds its uncommitted deal (and the figure row it added to); the second, with
    a lock timeout of a second, inserts into the same stage and commits: with one row per
    (stage, currency) it would wait for the first and fail with LockNotAvailable."""
    board = await pipeline(api)
    tenant, offer = await tenant_id(api), uuid.UUID(stage(board, "Angebot"))
    await deal(api, value="1", stageId=str(offer))  # the stage's figures have a row already
    held = (tenant, uuid.UUID(board["id"]), offer)
    async with as_tenant(servers, tenant) as first:
        await first.execute(INSERT_DEAL, *held, Decimal("10"))
        async with as_tenant(servers, tenant) as second:
            await second.execute("SET LOCAL lock_timeout = '1s'")
            await second.execute(INSERT_DEAL, *held, Decimal("20"))
        # The server's own writes too (DB_LOCK_TIMEOUT_SECONDS): a create and a move.
        created = await deal(api, value="30", stageId=str(offer))
        moved = await deal(api, value="40", stageId=stage(board, "Qualifizierung"))
        await api.data(MOVE, {"id": moved["id"], "s": str(offer)})
        visible = (await summary_of(api, board["id"]))[str(offer)]["dealCount"]
    assert visible == 4  # the first's deal was not committed yet
    assert created["value"] == "30.00"
    assert (await consistent(servers, api))[(str(offer), "EUR")][0] == 5
    connection = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    try:
        rows = await connection.fetchval(
            "SELECT count(*) FROM stage_figure WHERE stage_id = $1", offer
        )
    finally:
        await connection.close()
    assert rows == 2  # one for the writer that held one, one for everybody else in turn


async def change_probability(servers: Servers, tenant: uuid.UUID, stage_id: uuid.UUID) -> None:
    async with as_tenant(servers, tenant) as admin:
        await admin.execute(PROBABILITY_TO_20, stage_id)


async def test_a_new_probability_waits_for_the_writers_that_read_the_old_one(
    api: Api, servers: Servers
) -> None:
    """A deal added at 50 % and not committed yet, in a currency the stage had no figures for
    (a row of its own, which the recount cannot see): the new probability's recount waits for
    it, then weights it at the new probability as every other deal of the stage."""
    board = await pipeline(api)
    tenant, offer = await tenant_id(api), uuid.UUID(stage(board, "Angebot"))
    await deal(api, value="100", stageId=str(offer))
    async with as_tenant(servers, tenant) as writer:
        await writer.execute(
            INSERT_DEAL.replace("'EUR'", "'CHF'"), tenant, uuid.UUID(board["id"]), offer, 10
        )
        changing = asyncio.create_task(change_probability(servers, tenant, offer))
        await until_waiting(servers.database_url, PROBABILITY_TO_20)
    await changing  # the writer committed at the end of its block
    assert await consistent(servers, api) == {
        (str(offer), "EUR"): (1, Decimal("100.00"), Decimal("20.00")),
        (str(offer), "CHF"): (1, Decimal("10.00"), Decimal("2.00")),
    }


async def insert_deal(servers: Servers, tenant: uuid.UUID, *values: Any) -> None:
    async with as_tenant(servers, tenant) as writer:
        await writer.execute(INSERT_DEAL, tenant, *values)


async def test_a_writer_waits_for_a_new_probability_being_written(
    api: Api, servers: Servers
) -> None:
    """The other order: the probability changed but not committed yet; a deal written into the
    stage meanwhile waits for it and is weighted at the new probability."""
    board = await pipeline(api)
    tenant, offer = await tenant_id(api), uuid.UUID(stage(board, "Angebot"))
    await deal(api, value="100", stageId=str(offer))
    async with as_tenant(servers, tenant) as admin:
        await admin.execute(PROBABILITY_TO_20, offer)
        writing = asyncio.create_task(
            insert_deal(servers, tenant, uuid.UUID(board["id"]), offer, 10)
        )
        await until_waiting(servers.database_url, INSERT_DEAL.split("(")[0])
    await writing  # the admin committed at the end of its block
    assert await consistent(servers, api) == {
        (str(offer), "EUR"): (2, Decimal("110.00"), Decimal("22.00")),
    }


async def test_the_tenant_role_reads_and_writes_only_its_own_figures(
    api: Api, servers: Servers
) -> None:
    board = await pipeline(api)
    await deal(api, value="5", stageId=stage(board, "Angebot"))
    other = Api(api.client, api.tokens, f"t-{uuid.uuid4().hex[:12]}")
    other_board = await pipeline(other)
    await deal(other, value="7", stageId=stage(other_board, "Angebot"))
    tenant, stranger = await tenant_id(api), await tenant_id(other)
    seen: list[Any] = []
    with pytest.raises(asyncpg.InsufficientPrivilegeError):  # row-level security's check
        async with as_tenant(servers, tenant) as connection:
            seen += await connection.fetch("SELECT tenant_id, deal_count FROM stage_figure")
            await connection.execute(
                "INSERT INTO stage_figure (tenant_id, stage_id, currency, deal_count, "
                "value_sum, weighted_sum) VALUES ($1, $2, 'EUR', 1, 1, 1)",
                stranger,
                uuid.UUID(stage(other_board, "Angebot")),
            )
    assert [(r["tenant_id"], r["deal_count"]) for r in seen] == [(tenant, 1)]
