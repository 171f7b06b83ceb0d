"""The relay to Redis and the per-process hub: channels per type, Redis outages, connections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from redis.asyncio import Redis
from websockets.exceptions import ConnectionClosed

from app.data.tenancy import TenantScope, system_session
from app.events.hub import LiveEventsLost
from app.events.relay import _MARK_PUBLISHED, _PENDING, PER_TENANT, RELAY_LOCK, publish_pending
from app.migrations import upgrade_to_head
from app.services.companies.service import create_company
from app.settings import Settings
from app.web.asgi import create_app
from models import Tenant
from models.roles import SYSTEM_SETTING
from tests.conftest import Api, Servers, Tokens, server_dir
from tests.factories import new_scope
from tests.live import LEGACY_WS, TRANSPORT_WS, RedisProcess, graphql_socket, uvicorn_serving
from tests.test_subscriptions import CRM_EVENTS, new_company


async def messages(pubsub: Any, count: int, wait: float = 15) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    async with asyncio.timeout(wait):
        while len(received) < count:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None:
                received.append({"channel": message["channel"], **orjson.loads(message["data"])})
    return received


async def test_each_event_goes_to_the_channel_named_as_its_type(api: Api, servers: Servers) -> None:
    redis = Redis.from_url(servers.redis_url)
    async with redis.pubsub() as pubsub:
        await pubsub.subscribe("crm.company.created", "crm.company.updated")
        company_id = await new_company(api, "Kanal GmbH")
        await api.data(
            'mutation($id: ID!) { updateCompany(id: $id, input: {name: "Kanal AG"}) { id } }',
            {"id": company_id},
        )
        ours = [m for m in await messages(pubsub, 2) if m["entityId"] == company_id]
    await redis.aclose()
    assert [(m["channel"], m["type"]) for m in ours] == [
        (b"crm.company.created", "crm.company.created"),
        (b"crm.company.updated", "crm.company.updated"),
    ]
    created = ours[0]
    assert set(created) == {
        "channel",
        "id",
        "type",
        "tenantId",
        "entity",
        "entityId",
        "actorId",
        "occurredAt",
        "changes",
        "requestId",
    }
    assert created["changes"]["name"] == [None, "Kanal GmbH"]
    assert int(ours[1]["id"]) == int(created["id"]) + 1


@pytest.fixture
async def isolated(
    settings: Settings, scratch_database_url: str
) -> AsyncIterator[tuple[Settings, RedisProcess]]:
    """Settings for a stack of its own: a fresh database and a Redis that can be restarted
    (the session's servers stay untouched, and no other relay publishes its events)."""
    await asyncio.to_thread(upgrade_to_head, scratch_database_url)
    redis = RedisProcess(server_dir("redis"))
    redis.start()
    yield (
        settings.model_copy(update={"database_url": scratch_database_url, "redis_url": redis.url}),
        redis,
    )
    redis.stop()


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_redis_outage_closes_subscriptions_with_a_code_and_after_resumes_without_a_gap(
    isolated: tuple[Settings, RedisProcess], tokens: Tokens, protocol: str
) -> None:
    """A subscription cannot get live events while the hub has no Redis: it ends with 1013
    (Try Again Later) instead of waiting unknowingly; the client comes back with `after`."""
    own, redis = isolated
    application = create_app(own)
    runtime = application.state.runtime
    scope = await new_scope(runtime.sessions)
    token = tokens.make(await _slug_of(scope), subject="u")
    async with (
        application.router.lifespan_context(application),
        uvicorn_serving(application) as host,
    ):
        async with graphql_socket(host, protocol) as socket:
            await socket.init(token)
            await socket.subscribe(CRM_EVENTS, {})
            await asyncio.wait_for(runtime.hub.connected.wait(), 10)
            await create_company(scope, {"name": "before"})
            assert (await socket.next_data())["crmEvents"]["id"] == "1"

            redis.stop()
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(socket.ws.recv(), 10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == LiveEventsLost.close_code == 1013
            assert closed.value.rcvd.reason.startswith("SERVICE_UNAVAILABLE: ")
        for n in range(5):  # commits do not need Redis
            await create_company(scope, {"name": f"during {n}"})
        redis.start()

        delivered = await _resumed(host, protocol, token, after="1", count=5)
        assert [e["id"] for e in delivered] == ["2", "3", "4", "5", "6"]
        assert [e["changes"]["name"][1] for e in delivered] == [f"during {n}" for n in range(5)]


async def _resumed(
    host: str, protocol: str, token: str, *, after: str, count: int
) -> list[dict[str, Any]]:
    """Reconnect as a client does after a 1013: again (after a pause) while it is refused."""
    async with asyncio.timeout(30):
        while True:
            async with graphql_socket(host, protocol) as socket:
                await socket.init(token)
                await socket.subscribe(CRM_EVENTS, {"after": after})
                try:
                    return [(await socket.next_data())["crmEvents"] for _ in range(count)]
                except ConnectionClosed as closed:
                    assert closed.rcvd is not None and closed.rcvd.code == 1013
            await asyncio.sleep(0.5)


async def test_a_commit_costs_the_relay_one_batch(
    isolated: tuple[Settings, RedisProcess],
) -> None:
    """A batch that was not full was all there was: the relay waits for the next commit (or
    poll) instead of looking again at once."""
    own, redis = isolated
    application = create_app(own.model_copy(update={"event_relay_poll_seconds": 60}))
    runtime = application.state.runtime
    scope = await new_scope(runtime.sessions)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    listener = Redis.from_url(redis.url)
    async with application.router.lifespan_context(application), listener.pubsub() as pubsub:
        await pubsub.subscribe("crm.company.created")
        await asyncio.sleep(0.5)  # the relay's first look, at start
        sa.event.listen(runtime.relay._engine.sync_engine, "before_cursor_execute", record)
        for n in range(3):
            await create_company(scope, {"name": f"one batch {n}"})
            [published] = await messages(pubsub, 1)
            assert published["changes"]["name"][1] == f"one batch {n}"
            await asyncio.sleep(0.3)
        batches = [s for s in statements if "pg_try_advisory_xact_lock" in s]
        assert len(batches) == 3, statements
        # Each batch: the lock, then (a fresh snapshot) its events, then the mark.
        assert len(statements) == 9, statements
    await listener.aclose()


async def _slug_of(scope: TenantScope) -> str:
    async with system_session(scope.sessions) as session:
        found = await session.execute(sa.select(Tenant.slug).where(Tenant.id == scope.tenant_id))
        return str(found.scalar_one())


async def test_redis_subscribers_get_the_backlog_in_order_after_an_outage(
    isolated: tuple[Settings, RedisProcess],
) -> None:
    own, redis = isolated
    application = create_app(own)
    scope = await new_scope(application.state.runtime.sessions)
    async with application.router.lifespan_context(application):
        redis.stop()
        for n in range(4):
            await create_company(scope, {"name": f"queued {n}"})
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            health = (await http.get("/health")).json()
        assert health["checks"]["redis"] == "down"
        assert health["unpublishedEvents"] == 4
        redis.start()
        listener = Redis.from_url(redis.url)
        async with listener.pubsub() as pubsub:
            await pubsub.psubscribe("crm.*")
            received = await messages(pubsub, 4, wait=20)
        await listener.aclose()
    assert [m["tenantId"] for m in received] == [str(scope.tenant_id)] * 4
    assert [m["id"] for m in received] == ["1", "2", "3", "4"]
    assert [m["changes"]["name"][1] for m in received] == [f"queued {n}" for n in range(4)]


async def test_a_backlog_larger_than_a_tenants_share_of_a_batch_goes_out_at_once(
    isolated: tuple[Settings, RedisProcess],
) -> None:
    """A full share means more may wait: the relay looks again at once, not at its next
    poll (a minute here)."""
    own, redis = isolated
    application = create_app(own.model_copy(update={"event_relay_poll_seconds": 60}))
    scope = await new_scope(application.state.runtime.sessions)
    async with application.router.lifespan_context(application):
        redis.stop()
        for n in range(PER_TENANT + 5):
            await create_company(scope, {"name": f"queued {n}"})
        redis.start()
        listener = Redis.from_url(redis.url)
        async with listener.pubsub() as pubsub:
            await pubsub.psubscribe("crm.*")
            received = await messages(pubsub, PER_TENANT + 5, wait=20)
        await listener.aclose()
    assert [int(m["id"]) for m in received] == list(range(1, PER_TENANT + 6))


async def test_one_redis_connection_serves_every_subscriber_of_a_process(
    api: Api, live: str, servers: Servers
) -> None:
    redis = Redis.from_url(servers.redis_url)

    async def pattern_subscribers() -> int:
        return sum(1 for c in await redis.client_list() if int(c.get("psub", 0)) > 0)

    async with graphql_socket(live) as first:
        await first.init(api.token())
        await first.subscribe(CRM_EVENTS)
        await asyncio.sleep(0.3)
        assert await pattern_subscribers() == 1
        sockets = [graphql_socket(live) for _ in range(5)]
        opened = [await s.__aenter__() for s in sockets]
        for socket in opened:
            await socket.init(api.token())
        before = len(await redis.client_list())
        for socket in opened:
            for _ in range(10):
                await socket.subscribe(CRM_EVENTS)
        await asyncio.sleep(0.5)
        assert await pattern_subscribers() == 1
        assert len(await redis.client_list()) == before
        await new_company(api, "fan-out")
        for socket in opened:
            for _ in range(10):
                assert (await socket.next_data())["crmEvents"]["type"] == "crm.company.created"
        for context in sockets:
            await context.__aexit__(None, None, None)
    await redis.aclose()


async def test_a_foreign_message_on_a_crm_channel_does_not_stop_live_delivery(
    api: Api, live: str, servers: Servers
) -> None:
    redis = Redis.from_url(servers.redis_url)
    async with graphql_socket(live) as socket:
        await socket.init(api.token())
        await socket.subscribe(CRM_EVENTS)
        await asyncio.sleep(0.3)
        for junk in (b"not json", b'{"tenantId": 1}', b'{"id": "1"}', orjson.dumps([1])):
            await redis.publish("crm.something.else", junk)
        company_id = await new_company(api, "still delivered")
        assert (await socket.next_data())["crmEvents"]["entityId"] == company_id
    await redis.aclose()


async def test_a_busy_tenant_does_not_hold_back_another(sessions: Any, app: Any) -> None:
    """One batch takes each tenant's oldest events round-robin, up to a share per tenant."""
    busy, quiet = await new_scope(sessions), await new_scope(sessions)
    lock = {"k": RELAY_LOCK}
    async with app.state.runtime.engine.connect() as holder:
        await holder.execute(sa.text("SELECT pg_advisory_lock(:k)"), lock)  # relays wait
        try:
            for n in range(PER_TENANT + 20):
                await create_company(busy, {"name": f"busy {n}"})
            await create_company(quiet, {"name": "quiet"})
            batch = {"batch": PER_TENANT + 1, "per_tenant": PER_TENANT}
            await holder.execute(sa.text(SYSTEM_SETTING))  # as the relay reads it
            rows = (await holder.execute(_PENDING, batch)).all()
        finally:
            await holder.execute(sa.text("SELECT pg_advisory_unlock(:k)"), lock)
    assert quiet.tenant_id in [row.tenant_id for row in rows]
    busy_seqs = [row.seq for row in rows if row.tenant_id == busy.tenant_id]
    assert busy_seqs == list(range(1, len(busy_seqs) + 1))
    assert 0 < len(busy_seqs) <= PER_TENANT


async def test_a_relay_that_finds_the_lock_taken_publishes_nothing(sessions: Any, app: Any) -> None:
    """While another relay holds the lock, a batch reads no events and marks nothing; once
    the lock is free, the events go out."""
    runtime = app.state.runtime
    scope = await new_scope(sessions)
    lock = {"k": RELAY_LOCK}
    async with runtime.engine.connect() as holder:
        await holder.execute(sa.text("SELECT pg_advisory_lock(:k)"), lock)
        try:
            await create_company(scope, {"name": "waits for the lock"})
            assert await publish_pending(runtime.engine, runtime.redis) is None
            assert await _published_seq(runtime.engine, scope) is None
        finally:
            await holder.execute(sa.text("SELECT pg_advisory_unlock(:k)"), lock)
            await holder.commit()
    for _ in range(100):  # this relay, or the app's own, publishes it now
        if await _published_seq(runtime.engine, scope) == 1:
            break
        await publish_pending(runtime.engine, runtime.redis)
        await asyncio.sleep(0.05)
    assert await _published_seq(runtime.engine, scope) == 1


async def test_the_published_mark_never_moves_back(sessions: Any, app: Any) -> None:
    """A late relay marking an older position (a batch that began before another's commit)
    must not send the marker back: the events after it would go out twice."""
    runtime = app.state.runtime
    scope = await new_scope(sessions)
    for n in range(3):
        await create_company(scope, {"name": f"marked {n}"})
    for _ in range(100):
        if await _published_seq(runtime.engine, scope) == 3:
            break
        await asyncio.sleep(0.05)
    async with runtime.engine.begin() as connection:
        await connection.execute(sa.text(SYSTEM_SETTING))  # as the relay marks it
        await connection.execute(_MARK_PUBLISHED, {"tenants": [str(scope.tenant_id)], "seqs": [1]})
    assert await _published_seq(runtime.engine, scope) == 3


async def _published_seq(engine: Any, scope: TenantScope) -> int | None:
    async with engine.connect() as connection:
        await connection.execute(sa.text(SYSTEM_SETTING))  # as the relay reads it
        seq = await connection.scalar(
            sa.text("SELECT published_seq FROM event_relay WHERE tenant_id = :t"),
            {"t": scope.tenant_id},
        )
    return None if seq is None else int(seq)
