"""The raw baseline: the best hand-written asyncpg SQL for each benchmark scenario, with the
same authentication, returning `orjson.dumps({"data": ...})` byte-identical to the GraphQL
response (bench/run.py checks this before timing). Mounted by bench/server.py, never by the app.

GraphQL reports each operation's cost in `extensions.cost` (resolvers/query_cost.py); the raw
routes add the same number, worked out by hand below for their fixed documents, so the bytes
stay identical.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

import asyncpg
import orjson
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from app.errors import AppError
from app.events.message import CrmEventMessage
from app.services.deals.board import BOARD_EVENTS

NESTED = 50  # the GraphQL nested-list default
_pool: asyncpg.Pool | None = None

COMPANIES = """SELECT id, name FROM company WHERE tenant_id = $1
ORDER BY name_key, id LIMIT $2"""
CONTACTS = """SELECT id, first_name, last_name, company_id FROM (
  SELECT c.*, row_number() OVER (PARTITION BY company_id ORDER BY last_name_key, id) AS rank
  FROM contact c WHERE tenant_id = $1 AND company_id = ANY($2)) ranked
WHERE rank <= $3 ORDER BY rank"""
EMAILS = """SELECT contact_id, email FROM contact_email WHERE tenant_id = $1 AND contact_id = ANY($2)
ORDER BY is_primary DESC, created_at, id"""
PHONES = """SELECT contact_id, phone FROM contact_phone WHERE tenant_id = $1 AND contact_id = ANY($2)
ORDER BY is_primary DESC, created_at, id"""
CONTACT_OWNERS = """SELECT contact_id, role::text AS role, u.id AS user_id, u.name FROM (
  SELECT o.*, row_number() OVER (PARTITION BY contact_id ORDER BY role, created_at, id) AS rank
  FROM contact_owner o WHERE tenant_id = $1 AND contact_id = ANY($2)) o
JOIN "user" u ON u.id = o.user_id AND u.tenant_id = $1 WHERE rank <= $3 ORDER BY rank"""
DEALS = """SELECT d.id, title, value, currency, company_id, s.name AS stage FROM (
  SELECT d.*, row_number() OVER (PARTITION BY company_id ORDER BY created_at DESC, id DESC) AS rank
  FROM deal d WHERE tenant_id = $1 AND company_id = ANY($2)) d
JOIN pipeline_stage s ON s.id = d.stage_id AND s.tenant_id = $1 WHERE rank <= $3 ORDER BY rank"""
DEAL_OWNERS = """SELECT deal_id, role::text AS role, user_id FROM (
  SELECT o.*, row_number() OVER (PARTITION BY deal_id ORDER BY role, created_at, id) AS rank
  FROM deal_owner o WHERE tenant_id = $1 AND deal_id = ANY($2)) o
WHERE rank <= $3 ORDER BY rank"""
COMPANY = "SELECT id, name, website, vat_id, status::text AS status FROM company WHERE tenant_id = $1 AND id = $2"


async def _pool_for(request: HTTPConnection) -> asyncpg.Pool:
    global _pool
    if _pool is None:
        # The baseline reads as the tables' owner, outside row-level security (as it did).
        url = str(request.app.state.runtime.settings.owner_database_url)
        _pool = await asyncpg.create_pool(
            url.replace("postgresql+asyncpg://", "postgresql://"), min_size=2, max_size=10
        )
    return _pool


async def _tenant(request: Request) -> uuid.UUID:
    principal = await request.app.state.runtime.authenticator.authenticate(
        request.headers.get("authorization")
    )
    return principal.tenant_id


# The cost of bench/run.py's COMPANY_PAGE: per company its edge and node (2), the contacts
# connection (1) with 50 edges and nodes (2 each), each contact's 20 e-mails, 20 phones and 50
# owners with their user, the deals connection (1) with 50 edges and nodes, each deal's stage
# and 50 owners with their user; plus the `companies` connection itself.
PAGE_COST_PER_COMPANY = 2 + 1 + 50 * (2 + 20 + 20 + 50 * 2) + 1 + 50 * (2 + 1 + 50 * 2)
ONE_OBJECT = {"cost": 1}  # company(id), createDeal and updateContact: one object each
DEAL_CHANGED_COST = {"cost": 4}  # dealChanged, its event, its deal and the deal's stage


def _grouped(rows: list[Any], key: str) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return grouped


async def companies_page(request: Request) -> Response:
    body = orjson.loads(await request.body())
    first = int(body["variables"]["first"])
    try:
        tenant = await _tenant(request)
    except AppError as error:
        return Response(orjson.dumps({"errors": [{"message": error.message}]}), status_code=401)
    async with (await _pool_for(request)).acquire() as db:
        companies = await db.fetch(COMPANIES, tenant, first)
        company_ids = [c["id"] for c in companies]
        contacts = await db.fetch(CONTACTS, tenant, company_ids, NESTED)
        contact_ids = [c["id"] for c in contacts]
        emails = _grouped(await db.fetch(EMAILS, tenant, contact_ids), "contact_id")
        phones = _grouped(await db.fetch(PHONES, tenant, contact_ids), "contact_id")
        contact_owners = _grouped(
            await db.fetch(CONTACT_OWNERS, tenant, contact_ids, NESTED), "contact_id"
        )
        deals = await db.fetch(DEALS, tenant, company_ids, NESTED)
        deal_owners = _grouped(
            await db.fetch(DEAL_OWNERS, tenant, [d["id"] for d in deals], NESTED), "deal_id"
        )
    contacts_of = defaultdict(list)
    for c in contacts:
        contacts_of[c["company_id"]].append({
            "id": str(c["id"]), "firstName": c["first_name"], "lastName": c["last_name"],
            "emails": [{"email": e["email"]} for e in emails[c["id"]]],
            "phones": [{"phone": p["phone"]} for p in phones[c["id"]]],
            "owners": [{"role": o["role"], "user": {"id": str(o["user_id"]), "name": o["name"]}} for o in contact_owners[c["id"]]],
        })  # fmt: skip
    deals_of = defaultdict(list)
    for d in deals:
        deals_of[d["company_id"]].append({
            "id": str(d["id"]), "title": d["title"], "value": str(d["value"]), "currency": d["currency"],
            "stage": {"name": d["stage"]},
            "owners": [{"role": o["role"], "user": {"id": str(o["user_id"])}} for o in deal_owners[d["id"]]],
        })  # fmt: skip
    edges = [
        {
            "node": {
                "id": str(c["id"]),
                "name": c["name"],
                "contacts": {"edges": [{"node": k} for k in contacts_of[c["id"]]]},
                "deals": {"edges": [{"node": d} for d in deals_of[c["id"]]]},
            }
        }
        for c in companies
    ]
    return Response(
        orjson.dumps(
            {
                "data": {"companies": {"edges": edges}},
                "extensions": {"cost": 1 + first * PAGE_COST_PER_COMPANY},
            }
        ),
        media_type="application/json",
    )


async def company_by_id(request: Request) -> Response:
    body = orjson.loads(await request.body())
    try:
        tenant = await _tenant(request)
    except AppError as error:
        return Response(orjson.dumps({"errors": [{"message": error.message}]}), status_code=401)
    async with (await _pool_for(request)).acquire() as db:
        row = await db.fetchrow(COMPANY, tenant, uuid.UUID(body["variables"]["id"]))
    company = None
    if row is not None:
        company = {
            "id": str(row["id"]),
            "name": row["name"],
            "website": row["website"],
            "vatId": row["vat_id"],
            "status": row["status"],
        }
    answer = {"data": {"company": company}, "extensions": ONE_OBJECT}
    return Response(orjson.dumps(answer), media_type="application/json")


# S5: the two mutations as the best hand-written transactions, events included (the same
# `crm_event` rows with the tenant's `event_counter` sequence as the outbox writes).

# One statement for the deal and its owners: the stage row places the deal (an OPEN stage of
# the pipeline, so status OPEN) and the composite foreign keys check company, users, tenant.
CREATE_DEAL = """WITH deal AS (
  INSERT INTO deal (tenant_id, title, value, currency, pipeline_id, stage_id, company_id, status)
  SELECT $1, $2, $3, $4, s.pipeline_id, s.id, $6, 'OPEN' FROM pipeline_stage s
  WHERE s.tenant_id = $1 AND s.id = $5 AND s.pipeline_id = $7 AND s.kind = 'OPEN'
  RETURNING id, title, value, currency, pipeline_id, stage_id, company_id, status::text AS status),
owners AS (
  INSERT INTO deal_owner (tenant_id, deal_id, user_id, role)
  SELECT $1, deal.id, o.user_id, o.role::owner_role
  FROM deal, unnest($8::uuid[], $9::text[]) AS o(user_id, role))
SELECT * FROM deal"""
# The tenant's counter row is locked last, just before COMMIT, as the outbox does.
WRITE_EVENT = """WITH counter AS (
  INSERT INTO event_counter AS c (tenant_id, last_seq) VALUES ($1, 1)
  ON CONFLICT (tenant_id) DO UPDATE SET last_seq = c.last_seq + 1 RETURNING last_seq)
INSERT INTO crm_event (tenant_id, seq, type, entity, entity_id, actor_id, changes)
SELECT $1, last_seq, $2, $3, $4, $5, $6::jsonb FROM counter"""
CONTACT_TEXT_FIELDS = {"position": "position", "department": "department",
                       "firstName": "first_name", "lastName": "last_name"}  # fmt: skip


def _error(message: str, status: int = 200) -> Response:
    return Response(orjson.dumps({"errors": [{"message": message}]}), status_code=status)


async def _writer(request: Request) -> Any:
    """The principal, as our mutations' CanWrite sees it."""
    principal = await request.app.state.runtime.authenticator.authenticate(
        request.headers.get("authorization")
    )
    if not principal.can_write:
        raise AppError("Forbidden")
    return principal


async def _write_event(db: asyncpg.Connection, principal: Any, type_: str, entity_id: uuid.UUID,
                       changes: dict[str, Any]) -> None:  # fmt: skip
    await db.execute(WRITE_EVENT, principal.tenant_id, type_, type_.split(".")[1], entity_id,
                     principal.user_id, orjson.dumps(changes).decode())  # fmt: skip


def _created_changes(deal: Any, owners: list[dict[str, str]]) -> dict[str, Any]:
    """What `changes.created` records: every non-null field but the id, as [null, value]."""
    fields = {"title": deal["title"], "value": str(deal["value"]), "currency": deal["currency"],
              "pipelineId": str(deal["pipeline_id"]), "stageId": str(deal["stage_id"]),
              "companyId": str(deal["company_id"]) if deal["company_id"] else None,
              "status": deal["status"]}  # fmt: skip
    changes = {key: [None, value] for key, value in fields.items() if value is not None}
    if owners:
        changes["owners"] = [None, owners]
    return changes


async def create_deal(request: Request) -> Response:
    """createDeal(input: {title, value, currency, pipelineId, stageId, companyId, owners})."""
    given = orjson.loads(await request.body())["variables"]["input"]
    try:
        principal = await _writer(request)
    except AppError as error:
        return _error(error.message, 401)
    owners = [{"userId": o["userId"], "role": o.get("role", "OWNER")} for o in given.get("owners") or []]  # fmt: skip
    company = given.get("companyId")
    values = (principal.tenant_id, given["title"], Decimal(str(given.get("value", 0))),
              given.get("currency", "EUR"), uuid.UUID(given["stageId"]),
              uuid.UUID(company) if company else None, uuid.UUID(given["pipelineId"]),
              [uuid.UUID(o["userId"]) for o in owners], [o["role"] for o in owners])  # fmt: skip
    async with (await _pool_for(request)).acquire() as db, db.transaction():
        deal = await db.fetchrow(CREATE_DEAL, *values)
        if deal is None:
            return _error("stageId is not an open stage of the pipeline")
        changes = _created_changes(deal, owners)
        await _write_event(db, principal, "crm.deal.created", deal["id"], changes)
    request.app.state.runtime.relay.wake()  # what UnitOfWork.commit does (outbox.announce_committed)
    created = {"id": str(deal["id"]), "title": deal["title"], "value": str(deal["value"]),
               "currency": deal["currency"]}  # fmt: skip
    answer = {"data": {"createDeal": created}, "extensions": ONE_OBJECT}
    return Response(orjson.dumps(answer), media_type="application/json")


def _update_contact_sql(columns: tuple[str, ...]) -> str:
    """The row locked, its old values read and the new ones written, in one statement."""
    sets = ", ".join(f"{c} = ${n}" for n, c in enumerate(columns, start=4))
    return f"""UPDATE contact c SET {sets}, version = c.version + 1, updated_at = now()
FROM (SELECT id, version, {", ".join(columns)} FROM contact
      WHERE tenant_id = $1 AND id = $2 FOR UPDATE) old
WHERE c.tenant_id = $1 AND c.id = old.id AND ($3::int IS NULL OR old.version = $3::int)
RETURNING c.id, c.version, {", ".join(f"c.{c}" for c in columns)},
          {", ".join(f"old.{c} AS old_{c}" for c in columns)}"""


async def update_contact(request: Request) -> Response:
    """updateContact(id, input: {some of CONTACT_TEXT_FIELDS}, expectedVersion)."""
    variables = orjson.loads(await request.body())["variables"]
    try:
        principal = await _writer(request)
    except AppError as error:
        return _error(error.message, 401)
    fields = [f for f in variables["input"] if f in CONTACT_TEXT_FIELDS]
    columns = tuple(CONTACT_TEXT_FIELDS[f] for f in fields)
    contact_id = uuid.UUID(variables["id"])
    async with (await _pool_for(request)).acquire() as db, db.transaction():
        row = await db.fetchrow(_update_contact_sql(columns), principal.tenant_id, contact_id,
                                variables.get("expectedVersion"),
                                *(variables["input"][f] for f in fields))  # fmt: skip
        if row is None:
            return _error("Contact not found, or changed by someone else.")
        diff = {f: [row[f"old_{c}"], row[c]] for f, c in zip(fields, columns, strict=True)
                if row[f"old_{c}"] != row[c]}  # fmt: skip
        if diff:
            await _write_event(db, principal, "crm.contact.updated", contact_id, diff)
    if diff:
        request.app.state.runtime.relay.wake()
    updated = {"id": str(row["id"]), **{f: row[c] for f, c in zip(fields, columns, strict=True)},
               "version": row["version"]}  # fmt: skip
    return Response(
        orjson.dumps({"data": {"updateContact": updated}, "extensions": ONE_OBJECT}),
        media_type="application/json",
    )


# S6: the deal board as a plain WebSocket fan-out through the process's EventHub (the same
# Redis subscription dealChanged uses). Per event and board the card is read and encoded
# once, shared by every socket on that board; board membership comes from the event itself
# (pipelineId in a create, move or delete) or from the card's current pipeline. Not done here
# (ours does): re-reading the outbox after a hub reconnect or an inbox overflow, and watching
# the token while the socket is open.
DEAL_CARD = """SELECT d.id, d.title, d.pipeline_id, s.name AS stage FROM deal d
JOIN pipeline_stage s ON s.id = d.stage_id AND s.tenant_id = d.tenant_id
WHERE d.tenant_id = $1 AND d.id = $2"""
PIPELINE_EXISTS = "SELECT true FROM pipeline WHERE tenant_id = $1 AND id = $2"
MEMO_SIZE = 256
_board_messages: dict[tuple[uuid.UUID, int, uuid.UUID], asyncio.Task[str | None]] = {}


async def _render_board_message(
    pool: asyncpg.Pool, event: CrmEventMessage, pipeline: uuid.UUID
) -> str | None:
    """The dealChanged payload for this board, or None if the event is not about it."""
    moved = event.changes.get("pipelineId")  # [old, new] in a create, a move, a delete
    if event.type == "crm.deal.deleted":
        if not moved or moved[0] != str(pipeline):
            return None
        card = None
    else:
        async with pool.acquire() as db:
            card = await db.fetchrow(DEAL_CARD, event.tenant_id, event.entity_id)
        if card is None:  # deleted since: its own event follows
            return None
        on_board = card["pipeline_id"] == pipeline
        if not (str(pipeline) in moved if moved else on_board):
            return None
        card = card if on_board else None
    deal = None
    if card is not None:
        deal = {"id": str(card["id"]), "title": card["title"], "stage": {"name": card["stage"]}}
    change = {"event": {"id": event.id, "type": event.type, "occurredAt": event.occurred_at.isoformat()},
              "dealId": str(event.entity_id), "deal": deal, "onBoard": deal is not None}  # fmt: skip
    return orjson.dumps({"data": {"dealChanged": change}, "extensions": DEAL_CHANGED_COST}).decode()


async def _board_message(
    pool: asyncpg.Pool, event: CrmEventMessage, pipeline: uuid.UUID
) -> str | None:
    if event.type not in BOARD_EVENTS:
        return None
    key = (event.tenant_id, event.seq, pipeline)
    task = _board_messages.get(key)
    if task is None:
        task = asyncio.create_task(_render_board_message(pool, event, pipeline))
        _board_messages[key] = task
        while len(_board_messages) > MEMO_SIZE:
            del _board_messages[next(iter(_board_messages))]
    # Shielded: one socket closing must not cancel the render the others wait for.
    return await asyncio.shield(task)


async def _send_board(websocket: WebSocket, pool: asyncpg.Pool, inbox: Any,
                      pipeline: uuid.UUID) -> None:  # fmt: skip
    while True:
        _resync, events = await inbox.next()
        for event in events:
            message = await _board_message(pool, event, pipeline)
            if message is not None:
                await websocket.send_text(message)


async def _until_closed(websocket: WebSocket) -> None:
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


async def deal_stream(websocket: WebSocket) -> None:
    """The first message is {"authorization": "Bearer ...", "pipelineId": ...}; then one JSON
    text message per change of a deal on that board, shaped as dealChanged's `data`."""
    await websocket.accept()
    runtime = websocket.app.state.runtime
    try:
        hello = orjson.loads(await websocket.receive_text())
        principal = await runtime.authenticator.authenticate(hello.get("authorization"))
        pipeline = uuid.UUID(str(hello["pipelineId"]))
    except (AppError, ValueError, KeyError, WebSocketDisconnect):
        with contextlib.suppress(RuntimeError):
            await websocket.close(4401)
        return
    pool = await _pool_for(websocket)
    async with pool.acquire() as db:
        if not await db.fetchval(PIPELINE_EXISTS, principal.tenant_id, pipeline):
            await websocket.close(4404)
            return
    async with runtime.hub.subscribe(principal.tenant_id) as inbox:
        tasks = {asyncio.create_task(_until_closed(websocket)),
                 asyncio.create_task(_send_board(websocket, pool, inbox, pipeline))}  # fmt: skip
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in done:
            error = None if task.cancelled() else task.exception()
            # A socket closing ends the sender with one of these; anything else is a bug.
            if error is not None and not isinstance(error, WebSocketDisconnect | RuntimeError | OSError):  # fmt: skip
                raise error


ROUTES = [
    Route("/bench/raw/companies", companies_page, methods=["POST"]),
    Route("/bench/raw/company", company_by_id, methods=["POST"]),
    Route("/bench/raw/create-deal", create_deal, methods=["POST"]),
    Route("/bench/raw/update-contact", update_contact, methods=["POST"]),
    WebSocketRoute("/bench/raw/deal-stream", deal_stream),
]
