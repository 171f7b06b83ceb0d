"""S9's baseline (bench/search.py): the naive way to find a record, `ILIKE '%q%'` over the
names, e-mail addresses and phone numbers (and the VAT id), and hand-written EXISTS for the
relation filters, one statement per request, as the tables' owner (outside row-level
security, as bench/raw.py reads). Mounted by bench/server.py beside bench/raw.py's routes.

The answers are not GraphQL's (the naive match finds other records, and fewer: no "Müler",
no "0711 1234560" for "+49 711 123456-0"); S9 reports how many rows each found.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.errors import AppError
from bench.raw import _pool_for, _tenant

_COMPANIES = """SELECT 'COMPANY' AS type, c.id, c.name AS label FROM company c
WHERE c.tenant_id = $1 AND (c.name ILIKE $2 OR c.vat_id ILIKE $2
  OR EXISTS (SELECT 1 FROM contact_email e WHERE e.tenant_id = $1 AND e.company_id = c.id
             AND e.email ILIKE $2)
  OR EXISTS (SELECT 1 FROM contact_phone p WHERE p.tenant_id = $1 AND p.company_id = c.id
             AND p.phone ILIKE $2))
ORDER BY lower(c.name), c.id LIMIT $3"""
_CONTACTS = """SELECT 'CONTACT' AS type, c.id, concat_ws(' ', c.first_name, c.last_name) AS label
FROM contact c
WHERE c.tenant_id = $1 AND (concat_ws(' ', c.first_name, c.last_name) ILIKE $2
  OR EXISTS (SELECT 1 FROM contact_email e WHERE e.tenant_id = $1 AND e.contact_id = c.id
             AND e.email ILIKE $2)
  OR EXISTS (SELECT 1 FROM contact_phone p WHERE p.tenant_id = $1 AND p.contact_id = c.id
             AND p.phone ILIKE $2))
ORDER BY lower(c.last_name), lower(c.first_name), c.id LIMIT $3"""
SEARCHES = {
    "all": f"SELECT * FROM (({_COMPANIES}) UNION ALL ({_CONTACTS})) hits LIMIT $3",
    "companies": _COMPANIES,
    "contacts": _CONTACTS,
}
RELATIONS = {
    "contacts of medium companies": """SELECT 'CONTACT' AS type, c.id,
  concat_ws(' ', c.first_name, c.last_name) AS label FROM contact c
WHERE c.tenant_id = $1 AND EXISTS (SELECT 1 FROM company co WHERE co.tenant_id = $1
  AND co.id = c.company_id AND co.company_size = 'MEDIUM')
ORDER BY lower(c.last_name), lower(c.first_name), c.id LIMIT $2""",
    "companies with a won deal": """SELECT 'COMPANY' AS type, c.id, c.name AS label FROM company c
WHERE c.tenant_id = $1 AND EXISTS (SELECT 1 FROM deal d WHERE d.tenant_id = $1
  AND d.company_id = c.id AND d.status = 'WON')
ORDER BY lower(c.name), c.id LIMIT $2""",
    "deals of one owner": """SELECT 'DEAL' AS type, d.id, d.title AS label FROM deal d
WHERE d.tenant_id = $1 AND EXISTS (SELECT 1 FROM deal_owner o WHERE o.tenant_id = $1
  AND o.deal_id = d.id AND o.user_id = $3)
ORDER BY d.created_at DESC, d.id LIMIT $2""",
}


def contains(text: str) -> str:
    """`%text%` with LIKE's own wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _answer(rows: list[Any]) -> Response:
    hits = [{"type": r["type"], "id": str(r["id"]), "label": r["label"]} for r in rows]
    return Response(orjson.dumps({"data": {"hits": hits}}), media_type="application/json")


async def _body_and_tenant(request: Request) -> tuple[dict[str, Any], uuid.UUID]:
    return orjson.loads(await request.body()), await _tenant(request)


async def naive_search(request: Request) -> Response:
    """{"query": ..., "scope": "all" | "companies" | "contacts", "first": 20}"""
    try:
        body, tenant = await _body_and_tenant(request)
    except AppError as error:
        return Response(orjson.dumps({"errors": [{"message": error.message}]}), status_code=401)
    async with (await _pool_for(request)).acquire() as db:
        rows = await db.fetch(
            SEARCHES[body["scope"]], tenant, contains(body["query"]), body["first"]
        )
    return _answer(rows)


async def relation(request: Request) -> Response:
    """{"relation": one of RELATIONS, "first": 20, "user": a user id for the owner filter}"""
    try:
        body, tenant = await _body_and_tenant(request)
    except AppError as error:
        return Response(orjson.dumps({"errors": [{"message": error.message}]}), status_code=401)
    arguments: list[Any] = [tenant, body["first"]]
    if "$3" in RELATIONS[body["relation"]]:
        arguments.append(uuid.UUID(body["user"]))
    async with (await _pool_for(request)).acquire() as db:
        rows = await db.fetch(RELATIONS[body["relation"]], *arguments)
    return _answer(rows)


ROUTES = [
    Route("/bench/raw/search", naive_search, methods=["POST"]),
    Route("/bench/raw/relation", relation, methods=["POST"]),
]
