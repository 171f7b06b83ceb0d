"""`/_fake/...`: steer a fake that runs in another process (seed, edit, inject failures, read the
request log). Not part of Lexware's API: no auth, no rate limit, not recorded. Errors are
`{"message": ...}` with 400 (bad input) or 404 (unknown key or contact)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from aiohttp import web

from fake_lexware.formats import Json
from fake_lexware.store import FAKE_KEY, FakeLexware

Handler = Callable[[web.Request], Awaitable[web.Response]]
ControlHandler = Callable[[web.Request, FakeLexware, Json], Any]


def control(func: ControlHandler) -> Handler:
    """Parse the (optional) JSON body, call `func`, and answer its result as JSON; KeyError (unknown
    key or contact) becomes 404, ValueError/TypeError (bad input) 400."""

    @wraps(func)
    async def handler(request: web.Request) -> web.Response:
        try:
            raw = await request.read()
            body = json.loads(raw) if raw.strip() else {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            return web.json_response(func(request, request.app[FAKE_KEY], body))
        except KeyError as error:
            return web.json_response({"message": str(error.args[0])}, status=404)
        except (ValueError, TypeError) as error:
            return web.json_response({"message": str(error)}, status=400)

    return handler


def _flag(body: Json, name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false")
    return value


@control
def fail(_request: web.Request, fake: FakeLexware, body: Json) -> Json:
    """{"status": 503, "count": 2, "afterWrite": false}"""
    status, count = body.get("status"), body.get("count", 1)
    if type(status) is not int or type(count) is not int:
        raise ValueError("status and count must be integers")
    after_write = _flag(body, "afterWrite", False)
    fake.fail_next(status, count, after_write=after_write)
    return {"status": status, "count": count, "afterWrite": after_write}


@control
def delay(_request: web.Request, fake: FakeLexware, body: Json) -> Json:
    """{"seconds": 2.5, "count": 1}"""
    seconds, count = body.get("seconds"), body.get("count", 1)
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or type(count) is not int:
        raise ValueError("seconds must be a number and count an integer")
    fake.delay_next(float(seconds), count)
    return {"seconds": seconds, "count": count}


@control
def rate_limit(_request: web.Request, fake: FakeLexware, body: Json) -> Json:
    """{"enabled": true, "retryAfter": true}; a missing field keeps its current value."""
    fake.rate_limit_enabled = _flag(body, "enabled", fake.rate_limit_enabled)
    fake.retry_after_header = _flag(body, "retryAfter", fake.retry_after_header)
    return {"enabled": fake.rate_limit_enabled, "retryAfter": fake.retry_after_header}


@control
def requests(_request: web.Request, fake: FakeLexware, _body: Json) -> Json:
    fields = ("at", "method", "path", "apiKey", "status", "traceparent")
    return {"requests": [dict(zip(fields, recorded, strict=True)) for recorded in fake.requests]}


@control
def reset(_request: web.Request, fake: FakeLexware, _body: Json) -> Json:
    fake.reset()
    return {"reset": True}


@control
def add_api_key(_request: web.Request, fake: FakeLexware, body: Json) -> Json:
    """{"apiKey": "...", "organizationId": optional uuid}"""
    key = body.get("apiKey")
    if not isinstance(key, str) or not key:
        raise ValueError("apiKey must be a non-empty string")
    org = body.get("organizationId")
    org_id = fake.add_api_key(key, uuid.UUID(org) if org else None)
    return {"apiKey": key, "organizationId": str(org_id)}


@control
def seed_contact(request: web.Request, fake: FakeLexware, body: Json) -> Json:
    return fake.seed_contact(request.match_info["key"], body)


@control
def edit_contact(request: web.Request, fake: FakeLexware, body: Json) -> Json:
    return fake.edit_in_web_app(request.match_info["key"], request.match_info["id"], body)


@control
def edit_contact_after_read(request: web.Request, fake: FakeLexware, body: Json) -> Json:
    key, contact_id = request.match_info["key"], request.match_info["id"]
    fake.edit_after_read(key, contact_id, body)
    return {"pending": True}


@control
def archive_contact(request: web.Request, fake: FakeLexware, _body: Json) -> Json | None:
    key, contact_id = request.match_info["key"], request.match_info["id"]
    fake.archive(key, contact_id)
    return fake.contact(key, contact_id)


@control
def seed_voucher(request: web.Request, fake: FakeLexware, body: Json) -> Json:
    return fake.seed_voucher(request.match_info["key"], body)


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_post("/_fake/fail", fail)
    router.add_post("/_fake/delay", delay)
    router.add_post("/_fake/rate-limit", rate_limit)
    router.add_get("/_fake/requests", requests)
    router.add_post("/_fake/reset", reset)
    router.add_post("/_fake/api-keys", add_api_key)
    router.add_post("/_fake/contacts/{key}", seed_contact)
    router.add_post("/_fake/contacts/{key}/{id}/edit", edit_contact)
    router.add_post("/_fake/contacts/{key}/{id}/edit-after-read", edit_contact_after_read)
    router.add_post("/_fake/contacts/{key}/{id}/archive", archive_contact)
    router.add_post("/_fake/vouchers/{key}", seed_voucher)
