"""GraphQL subscriptions over a real WebSocket: live events, resume, the deal board, tenancy."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from starlette.requests import Request

from app.auth import Principal, VerifiedToken
from app.data.engine import create_engine, create_session_factory
from app.data.tenancy import TenantScope
from resolvers.context import Context
from resolvers.schema import build_schema
from tests.conftest import Api, Tokens
from tests.live import LEGACY_WS, graphql_socket
from tests.test_deals import deal, pipeline, stage

CRM_EVENTS = """subscription($types: [String!], $after: ID, $entityId: ID) {
  crmEvents(types: $types, after: $after, entityId: $entityId) { id type entity entityId changes } }"""
DEAL_CHANGED = """subscription($p: ID!) { dealChanged(pipelineId: $p) {
  dealId onBoard event { type } deal { title value status stage { name } owners { role } } } }"""
NEW_COMPANY = "mutation($n: String!) { createCompany(input: {name: $n}) { id } }"


async def new_company(api: Api, name: str, **kw: Any) -> str:
    data = await api.data(NEW_COMPANY, {"n": name}, **kw)
    company_id: str = data["createCompany"]["id"]
    return company_id


async def ready(api: Api, socket: Any) -> None:
    """A subscription is live once it has delivered something: make events until one comes
    back. One made before the subscription registered never does; events keep their order,
    so an earlier marker never arrives after a later one."""
    for _ in range(10):
        marker = await new_company(api, "marker")
        try:
            while (await socket.next_data(wait=1))["crmEvents"]["entityId"] != marker:
                pass
            return
        except TimeoutError:
            continue
    raise AssertionError("the subscription delivered none of ten markers")


async def test_mutations_reach_a_subscriber_live(api: Api, live: str) -> None:
    async with graphql_socket(live) as socket:
        assert (await socket.init(api.token("viewer")))["type"] == "connection_ack"
        await socket.subscribe(CRM_EVENTS, {"types": ["crm.company.*"]})
        await asyncio.sleep(0.3)  # the subscription registers
        company_id = await new_company(api, "Live GmbH")
        event = (await socket.next_data())["crmEvents"]
        assert event["type"] == "crm.company.created"
        assert event["entityId"] == company_id
        assert event["changes"]["name"] == [None, "Live GmbH"]


async def test_resume_after_an_id_replays_then_continues_without_gap_or_duplicate(
    api: Api, live: str
) -> None:
    first = await new_company(api, "one")
    async with graphql_socket(live) as socket:
        await socket.init(api.token())
        await socket.subscribe(CRM_EVENTS, {})
        await ready(api, socket)
        await new_company(api, "two")
        seen = (await socket.next_data())["crmEvents"]["id"]
    # Disconnected: these happen while nobody listens.
    missed = [await new_company(api, f"missed {n}") for n in range(3)]
    async with graphql_socket(live) as socket:
        await socket.init(api.token())
        await socket.subscribe(CRM_EVENTS, {"after": seen})
        replayed = [(await socket.next_data())["crmEvents"] for _ in range(3)]
        assert [e["entityId"] for e in replayed] == missed
        live_one = await new_company(api, "after the switch")
        event = (await socket.next_data())["crmEvents"]
        assert event["entityId"] == live_one
        ids = [int(seen)] + [int(e["id"]) for e in replayed] + [int(event["id"])]
        assert ids == list(range(int(seen), int(seen) + 5))
        assert await socket.nothing_within(0.5)
    assert first not in missed


async def test_replay_with_a_filter_and_a_future_cursor_is_refused(api: Api, live: str) -> None:
    company_id = await new_company(api, "filtered")
    await api.data(
        'mutation($id: ID!) { updateCompany(id: $id, input: {name: "renamed"}) { id } }',
        {"id": company_id},
    )
    async with graphql_socket(live) as socket:
        await socket.init(api.token())
        await socket.subscribe(CRM_EVENTS, {"after": "0", "types": ["crm.company.updated"]})
        event = (await socket.next_data())["crmEvents"]
        assert (event["type"], event["entityId"]) == ("crm.company.updated", company_id)
        await socket.subscribe(CRM_EVENTS, {"after": "999999"})
        refused = await socket.receive()
        assert refused["type"] == "error" or refused["payload"].get("errors")
        assert "BAD_USER_INPUT" in str(refused)


async def test_a_subscriber_never_sees_another_tenants_events(
    api: Api, live: str, tokens: Tokens
) -> None:
    other = "other-" + api.tenant
    async with graphql_socket(live) as socket:
        await socket.init(api.token(tenant=other))
        # Another tenant's entity id and event ids change nothing: the scope is the token's.
        theirs = await new_company(api, "not yours")
        await socket.subscribe(CRM_EVENTS, {"after": "0", "entityId": theirs})
        await socket.subscribe(CRM_EVENTS, {})
        await asyncio.sleep(0.3)
        await new_company(api, "secret")
        mine = await new_company(api, "mine", tenant=other)
        event = (await socket.next_data())["crmEvents"]
        assert event["entityId"] == mine
        assert await socket.nothing_within(0.5)


async def test_deal_board_follows_moves_owners_and_deals_leaving(api: Api, live: str) -> None:
    board = await pipeline(api)
    other_board = await pipeline(api, "Service")
    me = (await api.data("{ me { user { id } } }"))["me"]["user"]["id"]
    async with graphql_socket(live) as socket:
        await socket.init(api.token())
        await socket.subscribe(DEAL_CHANGED, {"p": board["id"]})
        await asyncio.sleep(0.3)
        # Without owners (not even its creator), so that adding one below is an event.
        created = await deal(api, pipelineId=board["id"], value="5000", owners=[])
        await deal(api, pipelineId=other_board["id"])  # not on this board
        await api.data(
            "mutation($id: ID!, $s: ID!) { moveDealToStage(id: $id, stageId: $s) { id } }",
            {"id": created["id"], "s": stage(board, "Gewonnen")},
        )
        await api.data(
            "mutation($d: ID!, $u: ID!) { addDealOwner(dealId: $d, userId: $u) { id } }",
            {"d": created["id"], "u": me},
        )
        await api.data(
            "mutation($id: ID!, $p: ID!) { updateDeal(id: $id, input: {pipelineId: $p}) { id } }",
            {"id": created["id"], "p": other_board["id"]},
        )
        changes = [(await socket.next_data())["dealChanged"] for _ in range(4)]
        assert await socket.nothing_within(0.5)
    assert [c["event"]["type"] for c in changes] == [
        "crm.deal.created",
        "crm.deal.updated",
        "crm.deal.owner_added",
        "crm.deal.updated",
    ]
    assert changes[0]["deal"]["stage"]["name"] == "Qualifizierung"
    assert changes[1]["deal"]["status"] == "WON"
    assert changes[1]["deal"]["stage"]["name"] == "Gewonnen"
    assert changes[2]["deal"]["owners"] == [{"role": "OWNER"}]
    assert changes[3] == {
        "dealId": created["id"],
        "onBoard": False,
        "event": {"type": "crm.deal.updated"},
        "deal": None,
    }


async def test_deal_board_of_an_unknown_pipeline_is_not_found(api: Api, live: str) -> None:
    theirs = await pipeline(api)
    async with graphql_socket(live) as socket:
        await socket.init(api.token(tenant="x-" + api.tenant))
        await socket.subscribe(DEAL_CHANGED, {"p": theirs["id"]})
        message = await socket.receive()
        assert "NOT_FOUND" in str(message)


async def test_legacy_graphql_ws_protocol(api: Api, live: str) -> None:
    async with graphql_socket(live, LEGACY_WS) as socket:
        assert (await socket.init(api.token()))["type"] == "connection_ack"
        await socket.subscribe(CRM_EVENTS, {})
        await asyncio.sleep(0.3)
        company_id = await new_company(api, "legacy")
        assert (await socket.next_data())["crmEvents"]["entityId"] == company_id


async def test_queries_over_one_socket_do_not_share_cached_rows(api: Api, live: str) -> None:
    company_id = await new_company(api, "Vorher")
    contact = await api.data(
        'mutation($c: ID!) { createContact(input: {firstName: "Eva", lastName: "Roth", companyId: $c}) { id } }',
        {"c": company_id},
    )
    query = "query($id: ID!) { contact(id: $id) { company { name } } }"
    variables = {"id": contact["createContact"]["id"]}
    async with graphql_socket(live) as socket:
        await socket.init(api.token())
        await socket.subscribe(query, variables)
        assert (await socket.next_data())["contact"]["company"]["name"] == "Vorher"
        assert (await socket.receive())["type"] == "complete"
        await api.data(
            'mutation($id: ID!) { updateCompany(id: $id, input: {name: "Nachher"}) { id } }',
            {"id": company_id},
        )
        await socket.subscribe(query, variables)
        assert (await socket.next_data())["contact"]["company"]["name"] == "Nachher"


async def test_errors_inside_a_subscription_are_coded_and_masked(app: Any) -> None:
    """A real failure in the stream (its database is unreachable) reaches the client coded
    SERVICE_UNAVAILABLE, never with SQL or the server's address in it."""
    runtime = app.state.runtime
    dead = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    scope = TenantScope(uuid.uuid4(), uuid.uuid4(), create_session_factory(dead))
    token = VerifiedToken(None, "j", 2**40, "u", "t", frozenset({"admin"}), None, None)
    principal = Principal(scope.actor_id or uuid.uuid4(), scope.tenant_id, "t", token.roles, token)
    context = Context(
        request=Request({"type": "http", "headers": []}),
        response=None,
        settings=runtime.settings,
        authenticator=runtime.authenticator,
        hub=runtime.hub,
        lexware=runtime.lexware,
        request_id="req-1",
    )
    context.sign_in(principal, scope)
    stream = await build_schema(runtime.settings).subscribe(
        'subscription { crmEvents(after: "0") { id } }', context_value=context
    )
    first = await anext(stream)  # type: ignore[arg-type]
    await stream.aclose()  # type: ignore[union-attr]
    await dead.dispose()
    [error] = first.errors
    assert error.extensions == {"code": "SERVICE_UNAVAILABLE", "requestId": "req-1"}
    assert "SELECT" not in error.message and "nothing" not in error.message
    assert "127.0.0.1" not in error.message
