"""The raw baseline: the best hand-written asyncpg SQL for each benchmark scenario, with the
same authentication, returning `orjson.dumps({"data": ...})` byte-identical to the GraphQL
response (bench/run.py checks this before timing). Mounted only with BENCH_ROUTES=true.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

import asyncpg
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.errors import AppError

NESTED = 50  # the GraphQL nested-list default
_pool: asyncpg.Pool | None = None

COMPANIES = """SELECT id, name FROM company WHERE tenant_id = $1
ORDER BY lower(name), id LIMIT $2"""
CONTACTS = """SELECT id, first_name, last_name, company_id FROM (
  SELECT c.*, row_number() OVER (PARTITION BY company_id ORDER BY lower(last_name), id) AS rank
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
  SELECT d.*, row_number() OVER (PARTITION BY company_id ORDER BY created_at DESC, id) AS rank
  FROM deal d WHERE tenant_id = $1 AND company_id = ANY($2)) d
JOIN pipeline_stage s ON s.id = d.stage_id AND s.tenant_id = $1 WHERE rank <= $3 ORDER BY rank"""
DEAL_OWNERS = """SELECT deal_id, role::text AS role, user_id FROM (
  SELECT o.*, row_number() OVER (PARTITION BY deal_id ORDER BY role, created_at, id) AS rank
  FROM deal_owner o WHERE tenant_id = $1 AND deal_id = ANY($2)) o
WHERE rank <= $3 ORDER BY rank"""
COMPANY = "SELECT id, name, website, vat_id, status::text AS status FROM company WHERE tenant_id = $1 AND id = $2"


async def _pool_for(request: Request) -> asyncpg.Pool:
    global _pool
    if _pool is None:
        url = str(request.app.state.runtime.settings.database_url)
        _pool = await asyncpg.create_pool(
            url.replace("postgresql+asyncpg://", "postgresql://"), min_size=2, max_size=10
        )
    return _pool


async def _tenant(request: Request) -> uuid.UUID:
    principal = await request.app.state.runtime.authenticator.authenticate(
        request.headers.get("authorization")
    )
    return principal.tenant_id


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
                "contacts": contacts_of[c["id"]],
                "deals": deals_of[c["id"]],
            }
        }
        for c in companies
    ]
    return Response(
        orjson.dumps({"data": {"companies": {"edges": edges}}}), media_type="application/json"
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
    return Response(orjson.dumps({"data": {"company": company}}), media_type="application/json")


ROUTES = [
    Route("/bench/raw/companies", companies_page, methods=["POST"]),
    Route("/bench/raw/company", company_by_id, methods=["POST"]),
]
