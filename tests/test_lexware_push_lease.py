"""A push holds its record as a short lease renewed while it works: a server that died in the
middle of a push frees the record within seconds, and a slow push keeps it as long as it runs.
Sync, link and unlink hold the same lease."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.services.lexware.lease import LEASE_SECONDS
from app.settings import Settings
from tests.conftest import error_codes
from tests.lexware_fixtures import ACME, Lexware
from tests.live import free_port
from tests.test_lexware_contacts import IMPORT, LINK_COMPANY, PUSH, SYNC, company
from tests.test_scale_out import CLI, server_environment, until_live

UNLINK = "mutation($c: ID!) { unlinkCompanyFromLexware(companyId: $c) { id } }"
STATE = "query($id: ID!) { company(id: $id) { name lexwareContactId } }"


def lock_key(record_id: str) -> str:
    return f"crm:lock:lexware-push:{record_id}"


async def until(check: Any, seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while True:
            if await check():
                return
            await asyncio.sleep(0.05)


@pytest.fixture
async def black_hole() -> AsyncIterator[str]:
    """A Lexware that accepts connections and never answers."""

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client goes away
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.close()


def lexware_server_environment(settings: Settings, lexware_url: str) -> dict[str, str]:
    return {
        **server_environment(settings, "push-lease"),
        "LEXWARE_BASE_URL": lexware_url,
        "LEXWARE_KEY_SECRET": "test-secret",  # the lexware fixture's: it reads the tenant's key
        "LEXWARE_TIMEOUT_SECONDS": "120",  # the push hangs until the process is killed
        "LEXWARE_REQUEST_INTERVAL_MS": "5",
    }


async def test_a_push_whose_server_died_frees_the_record_within_seconds(
    lexware: Lexware, settings: Settings, black_hole: str
) -> None:
    crm = await company(lexware, name="Abgestürzt GmbH")
    redis = lexware.app.state.runtime.redis
    host = f"127.0.0.1:{free_port()}"
    serve = [CLI, "serve", "--no-worker", "--host", "127.0.0.1", "--port", host.split(":")[1]]
    server = await asyncio.create_subprocess_exec(
        *serve, env=lexware_server_environment(settings, black_hole)
    )
    try:
        await until_live(host)
        async with httpx.AsyncClient(base_url=f"http://{host}", timeout=120) as http:
            body = {"query": PUSH, "variables": {"id": crm["id"]}}
            headers = {"authorization": f"Bearer {lexware.api.token()}"}
            stuck = asyncio.create_task(http.post("/graphql", json=body, headers=headers))

            async def pushing() -> bool:
                return bool(await redis.exists(lock_key(crm["id"])))

            await until(pushing)  # the other server holds the record, waiting for Lexware
            server.kill()  # ... and dies there
            await server.wait()
            with pytest.raises(httpx.TransportError):
                await stuck
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
    answers: list[dict[str, Any]] = []

    async def pushed() -> bool:
        answers.append(await lexware.api(PUSH, {"id": crm["id"]}))
        return "errors" not in answers[-1]

    await until(pushed, 4 * LEASE_SECONDS)  # before: CONFLICT for 120 s
    assert all(error_codes(answer) == ["CONFLICT"] for answer in answers[:-1])
    contacts = lexware.fake.organization(lexware.key).contacts
    assert list(contacts) == [answers[-1]["data"]["pushCompanyToLexware"]["lexwareContactId"]]


async def test_a_push_slower_than_its_lease_keeps_the_record(lexware: Lexware) -> None:
    crm = await company(lexware, name="Langsam GmbH")
    lexware.fake.delay_next(LEASE_SECONDS * 1.6)  # Lexware answers the create this late
    slow = asyncio.create_task(lexware.api(PUSH, {"id": crm["id"]}))
    await asyncio.sleep(LEASE_SECONDS + 1)  # longer than one lease, while it still waits
    meanwhile = await lexware.api(PUSH, {"id": crm["id"]})
    assert error_codes(meanwhile) == ["CONFLICT"]
    done = await slow
    assert "errors" not in done, done
    assert len(lexware.fake.organization(lexware.key).contacts) == 1


async def test_a_push_that_lost_its_lease_says_so(lexware: Lexware) -> None:
    crm = await company(lexware, name="Verloren GmbH")
    redis = lexware.app.state.runtime.redis
    lexware.fake.delay_next(LEASE_SECONDS)
    push = asyncio.create_task(lexware.api(PUSH, {"id": crm["id"]}))

    async def pushing() -> bool:
        return bool(await redis.exists(lock_key(crm["id"])))

    await until(pushing)
    await redis.delete(lock_key(crm["id"]))  # as if Redis had been away longer than the lease
    lost = await push
    assert error_codes(lost) == ["CONFLICT"]
    assert "lost its lock" in lost["errors"][0]["message"]


async def test_a_sync_or_link_while_a_push_runs_waits_its_turn(lexware: Lexware) -> None:
    """Push, sync, link and unlink of a record hold the same lease: a sync that read Lexware
    before a running push wrote to it must not write Lexware's old values over the CRM's."""
    acme, other = lexware.seed(ACME), lexware.seed({**ACME, "company": {"name": "Andere GmbH"}})
    crm = (await lexware.api.data(IMPORT, {"l": acme["id"]}))["importCompanyFromLexware"]
    rename = 'mutation($id: ID!) { updateCompany(id: $id, input: {name: "Acme AG"}) { id } }'
    await lexware.api.data(rename, {"id": crm["id"]})
    redis = lexware.app.state.runtime.redis
    lexware.fake.delay_next(1.5)  # Lexware answers the push's read this late
    push = asyncio.create_task(lexware.api(PUSH, {"id": crm["id"]}))

    async def pushing() -> bool:
        return bool(await redis.exists(lock_key(crm["id"])))

    await until(pushing)
    for operation, variables in (
        (SYNC, {"id": crm["id"]}),  # before: wrote "Acme & Söhne GmbH" back into the CRM
        (LINK_COMPANY, {"c": crm["id"], "l": other["id"]}),
        (UNLINK, {"c": crm["id"]}),  # before: unlinked, and the push linked it again
    ):
        refused = await lexware.api(operation, variables)
        assert error_codes(refused) == ["CONFLICT"], refused
        assert "right now" in refused["errors"][0]["message"]
    pushed = await push
    assert "errors" not in pushed, pushed
    stored = lexware.fake.contact(lexware.key, acme["id"])
    assert stored is not None and stored["company"]["name"] == "Acme AG"
    shown = await lexware.api.data(STATE, {"id": crm["id"]})
    assert shown["company"]["name"] == "Acme AG"
    assert shown["company"]["lexwareContactId"] == acme["id"]
    lexware.fake.delay_next(1.5)  # and a push waits for a running sync the same way
    sync = asyncio.create_task(lexware.api(SYNC, {"id": crm["id"]}))
    await until(pushing)
    assert error_codes(await lexware.api(PUSH, {"id": crm["id"]})) == ["CONFLICT"]
    assert "errors" not in await sync
