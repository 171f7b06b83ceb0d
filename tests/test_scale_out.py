"""Scale-out: two server processes and a worker process on one PostgreSQL and one Redis."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from tests.conftest import AUDIENCE, ISSUER, Tokens, server_dir
from tests.live import graphql_socket
from tests.test_deals import STAGES
from tests.test_reminders import CREATE, in_hours

CLI = str(Path(sys.executable).parent / "insight-crm")


def server_environment(settings: Settings, data_dir_prefix: str) -> dict[str, str]:
    """The environment of an `insight-crm` process on the suite's servers and token key."""
    assert settings.jwt_public_key is not None
    return {
        **os.environ,
        "DATABASE_URL": str(settings.database_url),
        "MIGRATION_DATABASE_URL": str(settings.owner_database_url),
        "REDIS_URL": str(settings.redis_url),
        "JWT_PUBLIC_KEY": settings.jwt_public_key.get_secret_value(),
        "JWT_ISSUER": ISSUER,
        "JWT_AUDIENCE": AUDIENCE,
        "DATA_DIR": str(server_dir(data_dir_prefix)),
        "LOG_LEVEL": "warning",
    }


@pytest.fixture(scope="module")
def environment(settings: Settings) -> dict[str, str]:
    return server_environment(settings, "scale-out")


@contextmanager
def processes(*commands: list[str], env: dict[str, str]) -> Iterator[list[subprocess.Popen[bytes]]]:
    started = [subprocess.Popen([CLI, *args], env=env) for args in commands]
    try:
        yield started
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(20)


async def until_live(host: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{host}") as http, asyncio.timeout(60):
        while True:
            try:
                if (await http.get("/livez")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)


async def graphql(http: httpx.AsyncClient, token: str, query: str, variables: dict) -> dict:  # type: ignore[type-arg]
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert "errors" not in body, body
    data: dict = body["data"]  # type: ignore[type-arg]
    return data


async def test_two_servers_and_a_worker_share_events(
    environment: dict[str, str], tokens: Tokens
) -> None:
    from tests.live import free_port

    a, b = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    serve = ["serve", "--no-worker", "--host", "127.0.0.1", "--port"]
    token = tokens.make("scale-out", subject="seller")
    with processes(
        [*serve, a.split(":")[1]], [*serve, b.split(":")[1]], ["worker"], env=environment
    ):
        await asyncio.gather(until_live(a), until_live(b))
        async with httpx.AsyncClient(base_url=f"http://{a}") as http_a, graphql_socket(b) as socket:
            board = await graphql(
                http_a,
                token,
                "mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }",
                {"i": {"name": "Vertrieb", "stages": STAGES}},
            )
            pipeline_id = board["createPipeline"]["id"]
            await socket.init(token)
            await socket.subscribe(
                "subscription($p: ID!) { dealChanged(pipelineId: $p) { dealId deal { title } } }",
                {"p": pipeline_id},
            )
            await socket.subscribe(
                'subscription { crmEvents(types: ["crm.activity.due_soon"]) { entityId } }', {}
            )
            await asyncio.sleep(0.5)
            created = await graphql(
                http_a,
                token,
                'mutation($p: ID!) { createDeal(input: {title: "Über A", pipelineId: $p}) { id } }',
                {"p": pipeline_id},
            )
            seen = (await socket.next_data())["dealChanged"]
            assert seen == {"dealId": created["createDeal"]["id"], "deal": {"title": "Über A"}}

            company = await graphql(
                http_a, token, 'mutation { createCompany(input: {name: "K"}) { id } }', {}
            )
            activity = await graphql(
                http_a, token, CREATE, {"due": in_hours(1), "c": company["createCompany"]["id"]}
            )
            activity_id = activity["createActivity"]["id"]
            # Two more workers' worth of the cron at once, by hand, next to the running worker.
            with processes(
                ["run-job", "due-soon"], ["run-job", "due-soon"], env=environment
            ) as jobs:
                await asyncio.to_thread(lambda: [job.wait(60) for job in jobs])
            assert [job.returncode for job in jobs] == [0, 0]
            reminder = (await socket.next_data(wait=20))["crmEvents"]
            assert reminder == {"entityId": activity_id}
            assert await socket.nothing_within(1.5)
            stored = await graphql(
                http_a,
                token,
                'query($e: ID!) { events(types: ["crm.activity.due_soon"], entityId: $e) { totalCount } }',
                {"e": activity_id},
            )
            assert stored["events"]["totalCount"] == 1
