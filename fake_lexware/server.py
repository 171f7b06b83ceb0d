"""A fake Lexware Office API server (aiohttp) that speaks the HTTP contract of Lexware's public
API documentation (https://developers.lexware.io/docs/): auth, the per-key rate limit, contacts,
voucherlist, voucher details, the three error formats and injectable gateway failures.

The fake's modules name the documentation's sections in quotes ("Filtering Contacts",
"Optimistic Locking", "HTTP Status Codes", ...). Where the documentation is silent, the fake
makes a choice and says so ("not documented").

Tests run it over real HTTP with `running_fake()`; `insight-crm fake-lexware` runs it with demo data
through `run_fake()`. `/_fake/...` control endpoints (control.py) steer it from another process.

Gateway order for every `/v1` request, mirroring AWS API Gateway in front of Lexware:
1. rate limit (only for known keys: an unknown key is answered 401 and never throttled),
2. unknown route or method -> 403 (whatever the key),
3. missing/malformed/unknown Bearer key -> 401,
4. an injected delay (`delay_next`), then an injected failure (`fail_next`), else the handler.
Every such request is recorded with the status it got.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from http import HTTPStatus

from aiohttp import web

from fake_lexware import contacts, control, vouchers
from fake_lexware.demo_data import seed_demo
from fake_lexware.formats import bearer_key, gateway_error, legacy_bad_request, regular_error
from fake_lexware.store import FAKE_KEY, FakeLexware, RecordedRequest

__all__ = [
    "FAKE_KEY",
    "FakeLexware",
    "RecordedRequest",
    "create_fake_app",
    "run_fake",
    "running_fake",
]

log = logging.getLogger(__name__)
CONTROL_PREFIX = "/_fake/"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def unknown_route(request: web.Request) -> web.Response:
    """The gateway's 403 for an unknown URL or method ("HTTP Status Codes"). AWS quotes the
    Authorization header in it; without one it says "Missing Authentication Token" (not
    documented: the text of AWS API Gateway, which Lexware runs behind)."""
    header = request.headers.get("Authorization")
    if header is None:
        return gateway_error(403, "Missing Authentication Token")
    token = header.partition(" ")[2] or header
    message = (
        f"'{token}' not a valid key=value pair (missing equal-sign) in Authorization header: "
        f"'{header}'."
    )
    return gateway_error(403, message)


LEGACY_FORMAT = ("/v1/contacts", "/v1/profile")  # the endpoints with IssueList errors


def failure_response(request: web.Request, status: int) -> web.Response:
    """Injected failures with the gateway's bodies ("HTTP Status Codes"): 500
    `{"message": null}`, 503 a null body, 504 the gateway timeout; a 400 (a request Lexware
    takes for malformed) in the endpoint's error format ("Error Codes"): the legacy
    `bad_request_error` with a null source, or the regular body; other codes get their reason
    phrase."""
    if status == 503:
        return web.json_response(None, status=503)
    if status == 504:
        return gateway_error(504, "Endpoint request timed out")
    if status == 400 and request.path.startswith(LEGACY_FORMAT):
        return legacy_bad_request(None)
    if status == 400:
        return regular_error(request, 400, HTTPStatus(400).phrase)
    return gateway_error(status, None if status == 500 else HTTPStatus(status).phrase)


async def _call(handler: Handler, request: web.Request) -> web.StreamResponse:
    """Run a handler; a crash becomes the gateway's 500 so it is still recorded."""
    try:
        return await handler(request)
    except web.HTTPException as error:  # raised by aiohttp itself, e.g. a body that is too large
        return gateway_error(error.status, error.reason)
    except Exception:
        log.exception("fake Lexware: handler failed for %s %s", request.method, request.path)
        return gateway_error(500, None)


async def _through_gateway(
    fake: FakeLexware, request: web.Request, handler: Handler
) -> web.StreamResponse:
    key = bearer_key(request)
    org = fake.organization_for(key)
    if key is not None and org is not None and not fake.allow_request(key):
        headers = {"Retry-After": "1"} if fake.retry_after_header else None
        return gateway_error(429, "Too Many Requests", headers)
    if request.match_info.http_exception is not None:
        return unknown_route(request)
    if org is None:
        return gateway_error(401, "Unauthorized")
    delay = fake.take_delay()
    if delay:
        await asyncio.sleep(delay)
    failure = fake.take_failure()
    if failure is None:
        return await _call(handler, request)
    if failure.after_write:  # the write happens, the client only sees the failure
        await _call(handler, request)
    return failure_response(request, failure.status)


@web.middleware
async def gateway(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(CONTROL_PREFIX):
        return await handler(request)
    fake = request.app[FAKE_KEY]
    at = fake.clock()
    response = await _through_gateway(fake, request, handler)
    recorded = RecordedRequest(
        at,
        request.method,
        request.path,
        bearer_key(request),
        response.status,
        request.headers.get("traceparent"),
    )
    fake.requests.append(recorded)
    return response


def create_fake_app(fake: FakeLexware | None = None) -> web.Application:
    """The aiohttp app; `app["fake"]` (and `app[FAKE_KEY]`) is the state it serves."""
    state = fake if fake is not None else FakeLexware()
    app = web.Application(middlewares=[gateway])
    app[FAKE_KEY] = state
    with warnings.catch_warnings():  # the string key is part of the agreed API
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        app["fake"] = state
    contacts.add_routes(app)
    vouchers.add_routes(app)
    control.add_routes(app)
    return app


@asynccontextmanager
async def running_fake(
    fake: FakeLexware | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[tuple[str, FakeLexware]]:
    """Serve the fake on `host:port` (port 0: a free one) and yield (base URL, state)."""
    app = create_fake_app(fake)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1]
        url_host = f"[{host}]" if ":" in host else host
        yield f"http://{url_host}:{bound_port}", app[FAKE_KEY]
    finally:
        await runner.cleanup()


def run_fake(host: str, port: int, api_keys: list[str], *, quiet: bool = False) -> None:
    """Serve the fake until interrupted, with demo contacts and vouchers for every key. The rate
    limit is on, as in production. `quiet`: no "Running on" banner (the caller says it)."""
    if not api_keys:
        raise ValueError("the fake Lexware needs at least one API key")
    fake = FakeLexware()
    for key in api_keys:
        organization_id = fake.add_api_key(key)
        seed_demo(fake, key)
        log.info("fake Lexware: API key %s... -> organization %s", key[:4], organization_id)
    web.run_app(
        create_fake_app(fake),
        host=host,
        port=port,
        access_log=None,
        print=None if quiet else print,
    )
