"""Idempotent retries: `Idempotency-Key` on mutation requests (app/web/idempotency.py,
app/services/idempotency). Every test counts the rows the mutations made in the database."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.services.idempotency.rules import fingerprint
from app.settings import Settings
from jobs.worker import purge_idempotency_keys
from tests.conftest import FRONTEND_ORIGIN, Api, Tokens, error_codes, serving
from tests.live import free_port
from tests.pg_proxy import PostgresProxy
from tests.test_deals import PIPELINE, STAGES, pipeline
from tests.test_scale_out import graphql, processes, server_environment, until_live

CREATE_COMPANY = "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id name } }"
CREATE_DEAL = "mutation($i: CreateDealInput!) { createDeal(input: $i) { id title value } }"
COUNT = {
    "company": "SELECT count(*) FROM company c JOIN tenant t ON t.id = c.tenant_id WHERE t.slug = :s",
    "deal": "SELECT count(*) FROM deal d JOIN tenant t ON t.id = d.tenant_id WHERE t.slug = :s",
}
KEY_ROWS = sa.text("""
    SELECT k.state, k.expires_at - k.created_at AS ttl FROM idempotency_key k
    JOIN tenant t ON t.id = k.tenant_id WHERE t.slug = :s AND k.key = :k""")


# What the tests look at and set up, they do as the tables' owner (a DBA: every table).
@asynccontextmanager
async def owned(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as session, session.begin():
        yield session


async def count(sessions: async_sessionmaker[AsyncSession], table: str, tenant: str) -> int:
    async with sessions() as session:
        return int((await session.execute(sa.text(COUNT[table]), {"s": tenant})).scalar_one())


async def key_rows(sessions: async_sessionmaker[AsyncSession], tenant: str, key: str) -> list[Any]:
    async with sessions() as session:
        return list((await session.execute(KEY_ROWS, {"s": tenant, "k": key})).all())


async def send(
    api: Api, query: str, variables: dict[str, Any], key: str | None, token: str | None = None
) -> httpx.Response:
    headers = {} if key is None else {"Idempotency-Key": key}
    body = {"query": query, "variables": variables}
    return await api.post(body, token=token or api.token(), headers=headers)


def company(name: str) -> dict[str, Any]:
    return {"i": {"name": name}}


async def test_a_repeated_create_deal_is_replayed_with_the_identical_answer(
    api: Api,
    tenant: str,
    sessions: async_sessionmaker[AsyncSession],
    owner_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await pipeline(api)
    variables = {"i": {"title": "Rahmenvertrag", "value": "1200.50"}}
    first = await send(api, CREATE_DEAL, variables, "deal-1")
    replays = REGISTRY.get_sample_value("crm_idempotent_replays_total") or 0
    again = await send(api, CREATE_DEAL, variables, "deal-1")
    assert REGISTRY.get_sample_value("crm_idempotent_replays_total") == replays + 1
    assert first.status_code == 200 and "errors" not in first.json(), first.json()
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again.headers["content-type"] == first.headers["content-type"]
    assert await count(owner_sessions, "deal", tenant) == 1
    assert [state for state, _ in await key_rows(owner_sessions, tenant, "deal-1")] == ["done"]
    # Without a key, the same request is a new deal: nothing else changed.
    assert (await send(api, CREATE_DEAL, variables, None)).status_code == 200
    assert await count(owner_sessions, "deal", tenant) == 2


async def test_three_sends_at_once_create_one(
    api: Api,
    tenant: str,
    sessions: async_sessionmaker[AsyncSession],
    owner_sessions: async_sessionmaker[AsyncSession],
) -> None:
    answers = await asyncio.gather(
        *(send(api, CREATE_COMPANY, company("Müller GmbH"), "together") for _ in range(3))
    )
    assert await count(owner_sessions, "company", tenant) == 1
    created = [
        a for a in answers if "idempotent-replayed" not in a.headers and a.status_code == 200
    ]
    assert len(created) == 1, [(a.status_code, a.json()) for a in answers]
    for answer in answers:
        if answer is created[0]:
            continue
        if answer.status_code == 409:  # the first was still running
            assert error_codes(answer.json()) == ["CONFLICT"]
            assert answer.json()["errors"][0]["extensions"]["idempotency"] == "IN_PROGRESS"
            assert answer.headers["retry-after"] == "1"
        else:
            assert answer.headers["idempotent-replayed"] == "true"
            assert answer.content == created[0].content
    # Once the first is done, every repeat is its replay.
    late = await send(api, CREATE_COMPANY, company("Müller GmbH"), "together")
    assert late.headers["idempotent-replayed"] == "true" and late.content == created[0].content


async def test_the_same_key_with_another_request_is_refused(
    api: Api,
    tenant: str,
    sessions: async_sessionmaker[AsyncSession],
    owner_sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert (await send(api, CREATE_COMPANY, company("A"), "k")).status_code == 200
    other = await send(api, CREATE_COMPANY, company("B"), "k")
    assert other.status_code == 422
    assert error_codes(other.json()) == ["BAD_USER_INPUT"]
    assert other.json()["errors"][0]["extensions"]["idempotency"] == "KEY_REUSED"
    renamed = "mutation Named($i: CreateCompanyInput!) { createCompany(input: $i) { id name } }"
    assert (await send(api, renamed, company("A"), "k")).status_code == 422  # another document
    assert await count(owner_sessions, "company", tenant) == 1


async def test_another_tenants_and_another_users_identical_key_are_their_own(
    api: Api,
    tokens: Tokens,
    tenant: str,
    sessions: async_sessionmaker[AsyncSession],
    owner_sessions: async_sessionmaker[AsyncSession],
) -> None:
    other_tenant = f"t-{uuid.uuid4().hex[:10]}"
    colleague = tokens.make(tenant, "admin", subject="colleague")
    stranger = tokens.make(other_tenant, "admin", subject="admin")
    answers = [
        await send(api, CREATE_COMPANY, company("Same"), "shared-key", token)
        for token in (api.token(), colleague, stranger)
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert not any("idempotent-replayed" in a.headers for a in answers)
    assert len({a.json()["data"]["createCompany"]["id"] for a in answers}) == 3
    assert await count(owner_sessions, "company", tenant) == 2
    assert await count(owner_sessions, "company", other_tenant) == 1


async def test_an_expired_key_runs_again_and_is_purged(
    settings: Settings,
    tokens: Tokens,
    sessions: async_sessionmaker[AsyncSession],
    owner_sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    token = tokens.make(tenant, "admin", subject="admin")
    short = settings.model_copy(update={"idempotency_key_ttl_seconds": 3600})
    async with serving(short) as http:
        api = Api(http, tokens, tenant)
        assert (await send(api, CREATE_COMPANY, company("X"), "old", token)).status_code == 200
        [(_, ttl)] = await key_rows(owner_sessions, tenant, "old")
        assert ttl.total_seconds() == 3600  # the setting, counted from the claim
        await _expire(owner_sessions, tenant, "old")
        again = await send(api, CREATE_COMPANY, company("X"), "old", token)
        assert again.status_code == 200 and "idempotent-replayed" not in again.headers
        assert await count(owner_sessions, "company", tenant) == 2
        # The purge removes expired keys only.
        assert (await send(api, CREATE_COMPANY, company("Y"), "gone", token)).status_code == 200
        await _expire(owner_sessions, tenant, "gone")
        assert (await purge_idempotency_keys({"sessions": sessions})).endswith("purged")
        assert await key_rows(owner_sessions, tenant, "gone") == []
        assert len(await key_rows(owner_sessions, tenant, "old")) == 1


async def _expire(sessions: async_sessionmaker[AsyncSession], tenant: str, key: str) -> None:
    """What a day later looks like: the key's expiry has passed."""
    expire = sa.text("""
        UPDATE idempotency_key SET expires_at = now() - interval '1 second'
        WHERE key = :k AND tenant_id = (SELECT id FROM tenant WHERE slug = :s)""")
    async with sessions() as session, session.begin():
        await session.execute(expire, {"k": key, "s": tenant})


@pytest.mark.parametrize(
    "header",
    [
        "x" * 256,
        '"' + "x" * 256 + '"',
        "",
        '""',
        "two words",
        '"unterminated',
        "bad\\escape",
        "tab\tinside",
    ],
)
async def test_a_malformed_key_is_refused_and_nothing_runs(
    api: Api,
    tenant: str,
    sessions: async_sessionmaker[AsyncSession],
    header: str,
    owner_sessions: async_sessionmaker[AsyncSession],
) -> None:
    answer = await send(api, CREATE_COMPANY, company("Nope"), header)
    assert answer.status_code == 400, answer.json()
    assert error_codes(answer.json()) == ["BAD_USER_INPUT"]
    assert answer.json()["errors"][0]["extensions"]["fields"][0]["field"] == "Idempotency-Key"
    assert header[:20] not in answer.json()["errors"][0]["message"] or not header
    assert await count(owner_sessions, "company", tenant) == 0


async def test_keys_as_tokens_and_as_strings_and_their_limits(
    api: Api,
    tenant: str,
    sessions: async_sessionmaker[AsyncSession],
    owner_sessions: async_sessionmaker[AsyncSession],
) -> None:
    # The draft's structured-field string and the bare token name the same key.
    first = await send(api, CREATE_COMPANY, company("Q"), '"abc-123"')
    assert (await send(api, CREATE_COMPANY, company("Q"), "abc-123")).content == first.content
    longest = await send(api, CREATE_COMPANY, company("L"), "k" * 255)
    assert longest.status_code == 200
    two = [("Idempotency-Key", "a"), ("Idempotency-Key", "b"), ("authorization", "")]
    body = {"query": CREATE_COMPANY, "variables": company("Two")}
    headers = httpx.Headers([*two[:2], ("authorization", f"Bearer {api.token()}")])
    assert (await api.client.post("/graphql", json=body, headers=headers)).status_code == 400
    assert await count(owner_sessions, "company", tenant) == 2


async def test_a_query_ignores_the_header(api: Api) -> None:
    for key in ("q-1", "x" * 300):
        answer = await send(api, "query { me { user { id } } }", {}, key)
        assert answer.status_code == 200 and "errors" not in answer.json(), answer.json()
        assert "idempotent-replayed" not in answer.headers


async def test_a_first_attempt_that_failed_before_committing_can_be_retried(
    api: Api,
    tenant: str,
    sessions: async_sessionmaker[AsyncSession],
    owner_sessions: async_sessionmaker[AsyncSession],
) -> None:
    variables = {"i": {"title": "Erst nach der Pipeline"}}
    failed = await send(api, CREATE_DEAL, variables, "retry-me")
    assert error_codes(failed.json()) == ["BAD_USER_INPUT"], failed.json()  # no pipeline yet
    assert await key_rows(owner_sessions, tenant, "retry-me") == []  # released, not stored
    await pipeline(api)
    again = await send(api, CREATE_DEAL, variables, "retry-me")  # the very same request
    assert again.status_code == 200 and "errors" not in again.json(), again.json()
    assert "idempotent-replayed" not in again.headers  # it ran
    replay = await send(api, CREATE_DEAL, variables, "retry-me")
    assert replay.headers["idempotent-replayed"] == "true" and replay.content == again.content
    assert await count(owner_sessions, "deal", tenant) == 1


async def _hold(
    sessions: async_sessionmaker[AsyncSession],
    api: Api,
    tenant: str,
    key: str,
    state: str,
    lease: str,
    variables: dict[str, Any],
) -> None:
    """A key as an earlier attempt left it (claimed by a process that died, or still running)."""
    async with owned(sessions) as session:
        await session.execute(
            sa.text(f"""
            INSERT INTO idempotency_key (tenant_id, user_id, key, fingerprint, state, attempt,
                                         lease_expires_at, expires_at)
            SELECT t.id, u.id, :k, :f, :state, gen_random_uuid(), now() + interval '{lease}',
                   now() + interval '1 day'
            FROM tenant t JOIN "user" u ON u.tenant_id = t.id AND u.subject = 'admin'
            WHERE t.slug = :s"""),
            {
                "k": key,
                "f": fingerprint(CREATE_COMPANY, None, variables),
                "state": state,
                "s": tenant,
            },
        )


async def test_a_running_key_is_a_conflict_until_its_lease_ends_then_it_is_taken_over(
    api: Api,
    tenant: str,
    sessions: async_sessionmaker[AsyncSession],
    owner_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await api.data("query { me { user { id } } }")  # the user exists
    variables = company("Held")
    await _hold(owner_sessions, api, tenant, "alive", "running", "1 minute", variables)
    busy = await send(api, CREATE_COMPANY, variables, "alive")
    assert busy.status_code == 409 and error_codes(busy.json()) == ["CONFLICT"]
    assert busy.json()["errors"][0]["extensions"]["idempotency"] == "IN_PROGRESS"
    assert await count(owner_sessions, "company", tenant) == 0
    # Its process died before committing: the lease ran out, a retry runs it.
    await _hold(owner_sessions, api, tenant, "dead", "running", "-1 second", variables)
    taken = await send(api, CREATE_COMPANY, variables, "dead")
    assert taken.status_code == 200 and "errors" not in taken.json()
    assert await count(owner_sessions, "company", tenant) == 1
    # Committed and its response lost: never run again.
    await _hold(owner_sessions, api, tenant, "lost", "committed", "-1 second", variables)
    lost = await send(api, CREATE_COMPANY, variables, "lost")
    assert lost.status_code == 409 and error_codes(lost.json()) == ["CONFLICT"]
    extensions = lost.json()["errors"][0]["extensions"]
    assert (extensions["idempotency"], extensions["applied"]) == ("APPLIED_RESPONSE_LOST", True)
    assert await count(owner_sessions, "company", tenant) == 1


STORE_RESPONSE = b"SET state=$1::VARCHAR, response_status"  # the statement that stores it


async def test_a_repeat_after_the_server_died_between_commit_and_response_runs_nothing(
    settings: Settings,
    tokens: Tokens,
    sessions: async_sessionmaker[AsyncSession],
    owner_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A real server process, killed after the deal and its key committed and before the
    response was stored; the repeat goes to the next process: no second deal, a coded answer."""
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    token = tokens.make(tenant, "admin", subject="admin")
    auth = {"authorization": f"Bearer {token}"}
    create = {"query": CREATE_DEAL, "variables": {"i": {"title": "Einmal"}}}
    keyed = {**auth, "Idempotency-Key": "killed"}
    environment = {**server_environment(settings, "idempotency"), "IDEMPOTENCY_LEASE_SECONDS": "1"}
    host = f"127.0.0.1:{free_port()}"
    serve = ["serve", "--no-worker", "--host", "127.0.0.1", "--port", host.split(":")[1]]
    async with PostgresProxy(str(settings.database_url)) as proxy:
        with processes(serve, env={**environment, "DATABASE_URL": proxy.url}) as [server]:
            await until_live(host)
            async with httpx.AsyncClient(base_url=f"http://{host}", timeout=60) as http:
                await graphql(http, token, PIPELINE, {"i": {"name": "V", "stages": STAGES}})
                proxy.freeze_on(STORE_RESPONSE)
                sent = asyncio.create_task(http.post("/graphql", json=create, headers=keyed))
                async with asyncio.timeout(30):
                    await proxy.frozen_on.wait()
                assert [s for s, _ in await key_rows(owner_sessions, tenant, "killed")] == [
                    "committed"
                ]
                assert await count(owner_sessions, "deal", tenant) == 1
                server.send_signal(signal.SIGKILL)
                await asyncio.to_thread(server.wait, 20)
                with pytest.raises(httpx.TransportError):
                    await sent
    with processes(serve, env=environment):
        await until_live(host)
        await _lease_ended(owner_sessions, tenant, "killed")
        async with httpx.AsyncClient(base_url=f"http://{host}", timeout=60) as http:
            repeat = await http.post("/graphql", json=create, headers=keyed)
    assert repeat.status_code == 409 and error_codes(repeat.json()) == ["CONFLICT"]
    extensions = repeat.json()["errors"][0]["extensions"]
    assert (extensions["idempotency"], extensions["applied"]) == ("APPLIED_RESPONSE_LOST", True)
    assert await count(owner_sessions, "deal", tenant) == 1


async def _lease_ended(sessions: async_sessionmaker[AsyncSession], tenant: str, key: str) -> None:
    ended = sa.text("""
        SELECT k.lease_expires_at <= now() FROM idempotency_key k
        JOIN tenant t ON t.id = k.tenant_id WHERE t.slug = :s AND k.key = :k""")
    async with asyncio.timeout(30):
        while True:
            async with owned(sessions) as session:
                if (await session.execute(ended, {"s": tenant, "k": key})).scalar_one():
                    return
            await asyncio.sleep(0.2)


UPDATE_COMPANY = (
    "mutation($id: ID!, $i: UpdateCompanyInput!) { updateCompany(id: $id, input: $i) { version } }"
)
WAITING_ON_THE_LOCK = sa.text("""
    SELECT count(*) FROM pg_stat_activity
    WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE company %'""")


async def test_an_attempt_whose_key_was_taken_over_cannot_commit(
    settings: Settings,
    tokens: Tokens,
    sessions: async_sessionmaker[AsyncSession],
    owner_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The first attempt outlives its lease (it waits on a row lock); a retry takes the key over
    and waits too. The first one's commit finds the key no longer its own and rolls back: the
    update is applied once, by the retry."""
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    token = tokens.make(tenant, "admin", subject="admin")
    patient = settings.model_copy(
        update={
            "idempotency_lease_seconds": 0.5,
            "db_lock_timeout_seconds": 30,
            "db_statement_timeout_seconds": 30,
        }
    )
    async with serving(patient) as http:
        api = Api(http, tokens, tenant)
        created = await api.data(CREATE_COMPANY, company("Alt"), token=token)
        variables = {"id": created["createCompany"]["id"], "i": {"name": "Neu"}}
        lock = sa.text("SELECT 1 FROM company WHERE id = :id FOR UPDATE")
        async with owned(owner_sessions) as holder:
            await holder.execute(lock, {"id": variables["id"]})
            first = asyncio.create_task(send(api, UPDATE_COMPANY, variables, "slow", token))
            await _waiting_on_the_lock(owner_sessions, 1)
            await _lease_ended(owner_sessions, tenant, "slow")
            retry = asyncio.create_task(send(api, UPDATE_COMPANY, variables, "slow", token))
            await _waiting_on_the_lock(owner_sessions, 2)
        first_answer, retry_answer = (await first).json(), (await retry).json()
    assert error_codes(first_answer) == ["CONFLICT"], first_answer
    assert first_answer["errors"][0]["extensions"]["idempotency"] == "TAKEN_OVER"
    assert retry_answer["data"] == {"updateCompany": {"version": 2}}  # applied once
    assert [s for s, _ in await key_rows(owner_sessions, tenant, "slow")] == ["done"]


async def _waiting_on_the_lock(sessions: async_sessionmaker[AsyncSession], waiting: int) -> None:
    async with asyncio.timeout(30):
        while True:
            async with owned(sessions) as session:
                if (await session.execute(WAITING_ON_THE_LOCK)).scalar_one() >= waiting:
                    return
            await asyncio.sleep(0.05)


async def test_a_key_costs_three_statements_and_a_replay_two(api: Api, sql: Any) -> None:
    """The claim, the mark in the mutation's transaction, the stored response; a replay reads
    the key (the claim that finds it taken, its read) and nothing else."""
    await api.data("query { me { user { id } } }")  # signed in before counting
    sql.statements.clear()
    await send(api, CREATE_COMPANY, company("Plain"), None)
    plain = sql.count
    sql.statements.clear()
    await send(api, CREATE_COMPANY, company("Keyed"), "counted")
    keyed = list(sql.statements)
    sql.statements.clear()
    replay = await send(api, CREATE_COMPANY, company("Keyed"), "counted")
    assert replay.headers["idempotent-replayed"] == "true"
    assert len(keyed) == plain + 3, keyed
    assert [s.split()[0] for s in keyed if "idempotency_key" in s] == ["INSERT", "UPDATE", "UPDATE"]
    assert len(sql.statements) == 2, sql.statements


async def test_browsers_may_send_the_key_and_read_the_replay_mark(api: Api) -> None:
    preflight = await api.client.options(
        "/graphql",
        headers={
            "origin": FRONTEND_ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type, idempotency-key",
        },
    )
    assert preflight.status_code == 200
    assert "idempotency-key" in preflight.headers["access-control-allow-headers"].lower()
    sent = await api.post(
        {"query": CREATE_COMPANY, "variables": company("Web")},
        token=api.token(),
        headers={"origin": FRONTEND_ORIGIN, "Idempotency-Key": "browser"},
    )
    exposed = sent.headers["access-control-expose-headers"].split(",")
    assert "Idempotent-Replayed" in [header.strip() for header in exposed]


async def test_with_the_compiled_path_on_queries_pass_and_mutations_replay(
    settings: Settings,
    tokens: Tokens,
    sessions: async_sessionmaker[AsyncSession],
    owner_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """CrmGraphQL._answer_admitted answers a query the compiled path answered before without
    strawberry's view; the key's handling wraps it too and lets queries through."""
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    async with serving(settings.model_copy(update={"compiled_execution": "on"})) as http:
        api = Api(http, tokens, tenant)
        query = "query { companies(first: 5) { edges { node { name } } } }"
        answers = [await send(api, query, {}, "q") for _ in range(3)]  # admitted after the first
        assert {a.status_code for a in answers} == {200}
        assert not any("idempotent-replayed" in a.headers for a in answers)
        first = await send(api, CREATE_COMPANY, company("Fast"), "m")
        again = await send(api, CREATE_COMPANY, company("Fast"), "m")
        assert again.headers["idempotent-replayed"] == "true" and again.content == first.content
    assert await count(owner_sessions, "company", tenant) == 1


async def test_a_mutation_that_committed_and_then_failed_to_answer_is_not_run_again(
    settings: Settings,
    tokens: Tokens,
    sessions: async_sessionmaker[AsyncSession],
    owner_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The company commits; reading its contracts back waits on a lock past the time limit, so
    the answer is an error without data. A repeat hears at once that it was applied."""
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    token = tokens.make(tenant, "admin", subject="admin")
    create = "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id contracts { totalCount } } }"
    async with serving(settings.model_copy(update={"db_lock_timeout_seconds": 0.5})) as http:
        api = Api(http, tokens, tenant)
        await api.data("query { me { user { id } } }", token=token)
        async with owned(owner_sessions) as holder:
            await holder.execute(sa.text("LOCK TABLE contract IN ACCESS EXCLUSIVE MODE"))
            failed = await send(api, create, company("Halb"), "half", token)
        assert failed.json()["data"] == {"createCompany": None}
        assert error_codes(failed.json()) == ["TIMEOUT"]
        assert await count(owner_sessions, "company", tenant) == 1
        repeat = await send(api, create, company("Halb"), "half", token)
    assert repeat.status_code == 409, repeat.json()
    extensions = repeat.json()["errors"][0]["extensions"]
    assert (extensions["idempotency"], extensions["applied"]) == ("APPLIED_RESPONSE_LOST", True)
    assert await count(owner_sessions, "company", tenant) == 1
