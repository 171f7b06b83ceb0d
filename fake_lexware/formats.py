"""Shared pieces of the fake Lexware server: Berlin-time dates, the three error body formats, the
Spring page envelope, query-string parsing and the LIKE matcher of the contact filters.

Nothing here knows about the fake's state, so the record, store and handler modules can all use it.
Quoted names are sections of Lexware's API documentation (see fake_lexware/server.py).
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import MultiMapping

BERLIN = ZoneInfo("Europe/Berlin")
MAX_PAGE_SIZE = 250  # contacts and voucherlist; larger sizes are a 400 (not documented)
DEFAULT_PAGE_SIZE = 25
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Json = dict[str, Any]


class BadQuery(Exception):
    """A query parameter the API rejects with 400; each endpoint renders it in its own format."""

    def __init__(self, message: str, field: str | None = None, violation: str = "INVALID") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.violation = violation  # for the `details` of the regular format


def bearer_key(request: web.Request) -> str | None:
    """The token of `Authorization: Bearer <token>`; None when missing or malformed."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token and " " not in token else None


# --- dates (ISO-8601 with milliseconds and a numeric offset, Berlin time) -------------------------


def now() -> datetime:
    return datetime.now(BERLIN)


def format_datetime(value: datetime) -> str:
    """`2023-06-29T15:15:09.447+02:00`: the format of every date-time the API returns."""
    local = value.astimezone(BERLIN)
    offset = local.strftime("%z")  # "+0200"; the API writes the offset with a colon
    millis = local.microsecond // 1000
    return f"{local:%Y-%m-%dT%H:%M:%S}.{millis:03d}{offset[:3]}:{offset[3:]}"


def format_optional(value: datetime | None) -> str | None:
    return None if value is None else format_datetime(value)


def parse_datetime(value: str | datetime) -> datetime:
    """Seed input: an ISO date or date-time; values without an offset are read as Berlin time."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    # In Berlin time, so that "+14 days" lands on the same wall-clock hour across a DST switch.
    return parsed.astimezone(BERLIN) if parsed.tzinfo else parsed.replace(tzinfo=BERLIN)


def berlin_day_start(day: date) -> datetime:
    """Midnight of a Berlin calendar day (never ambiguous: DST switches happen at 02:00/03:00)."""
    return datetime.combine(day, time(0), tzinfo=BERLIN)


def parse_day(value: str, name: str) -> date:
    """The voucherlist date filters take `yyyy-MM-dd` and nothing else."""
    if not _DAY.match(value):
        raise BadQuery(f"{name} must have the format yyyy-MM-dd", name)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadQuery(f"{name} is not a valid date", name) from None


def day_range(
    day_from: date | None, day_to: date | None
) -> tuple[datetime | None, datetime | None]:
    """Whole Berlin days: [start of `day_from`, start of the day after `day_to`)."""
    start = berlin_day_start(day_from) if day_from else None
    end = berlin_day_start(day_to + timedelta(days=1)) if day_to else None
    return start, end


# --- error bodies ("Error Codes") -----------------------------------------------------------------


def gateway_error(
    status: int, message: str | None, headers: Mapping[str, str] | None = None
) -> web.Response:
    """(c) The AWS gateway's bare `{"message": ...}` (401, 403, 429, 500, 504)."""
    return web.json_response({"message": message}, status=status, headers=headers)


def issue(i18n_key: str, source: str | None, type_: str) -> Json:
    return {
        "i18nKey": i18n_key,
        "source": source,
        "type": type_,
        "additionalData": None,
        "args": None,
    }


def legacy_error(status: int, issues: list[Json]) -> web.Response:
    """(a) The legacy `{"IssueList": [...]}` of the contacts and profile endpoints."""
    return web.json_response({"IssueList": issues}, status=status)


def legacy_bad_request(source: str | None) -> web.Response:
    return legacy_error(400, [issue("bad_request_error", source, "bad_request_error")])


def regular_error(
    request: web.Request, status: int, message: str | None, details: list[Json] | None = None
) -> web.Response:
    """(b) The regular Spring-style body of voucherlist, invoices and the newer endpoints."""
    body = {
        "timestamp": format_datetime(now()),
        "status": status,
        "error": HTTPStatus(status).phrase,
        "path": request.path,
        "traceId": secrets.token_hex(6),
        "message": message,
        "details": details or [],
    }
    return web.json_response(body, status=status)


def regular_bad_query(request: web.Request, error: BadQuery) -> web.Response:
    details = [{"violation": error.violation, "field": error.field, "message": error.message}]
    return regular_error(request, 400, error.message, details if error.field else None)


# --- paging ("Paging of Resources") ---------------------------------------------------------------


def sort_descriptor(prop: str, ascending: bool) -> Json:
    return {
        "direction": "ASC" if ascending else "DESC",
        "property": prop,
        "ignoreCase": False,
        "nullHandling": "NATIVE",
        "ascending": ascending,
    }


def page_envelope(items: list[Json], page: int, size: int, sort: list[Json]) -> Json:
    """Spring Data's Page: an empty result has totalPages 0 and is both first and last; a page past
    the end is empty and last."""
    total = len(items)
    total_pages = -(-total // size)
    content = items[page * size : (page + 1) * size]
    return {
        "content": content,
        "first": page == 0,
        "last": page >= total_pages - 1,
        "totalPages": total_pages,
        "totalElements": total,
        "numberOfElements": len(content),
        "size": size,
        "number": page,
        "sort": sort,
    }


# --- query parameters -----------------------------------------------------------------------------


def single_params(
    query: MultiMapping[str], repeatable: frozenset[str] = frozenset()
) -> dict[str, str]:
    """The query as a plain dict; "a filter should not be present more than once"
    ("Filtering Contacts"): a repeat is a 400."""
    params: dict[str, str] = {}
    for name in query:
        values = query.getall(name)
        if len(values) > 1 and name not in repeatable:
            raise BadQuery(f"parameter {name} must not appear more than once", name)
        params[name] = values[0]
    return params


def parse_int(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadQuery(f"{name} must be an integer", name) from None


def parse_bool(params: Mapping[str, str], name: str) -> bool | None:
    raw = params.get(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise BadQuery(f"{name} must be true or false", name)
    return raw.lower() == "true"


def parse_paging(params: Mapping[str, str]) -> tuple[int, int]:
    """page is 0-based (default 0); size defaults to 25 and may not exceed 250 (over it:
    a 400, a strictness of the fake; the documentation names the maximum only)."""
    page = parse_int(params, "page")
    page = 0 if page is None else page
    size = parse_int(params, "size")
    size = DEFAULT_PAGE_SIZE if size is None else size
    if page < 0:
        raise BadQuery("page must not be less than 0", "page")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadQuery(f"size must be between 1 and {MAX_PAGE_SIZE}", "size")
    return page, size


# --- text matching ("Filtering Contacts") ---------------------------------------------------------


def html_escape(text: str) -> str:
    """Lexware stores names HTML-escaped: `&` -> `&amp;`, `<` -> `&lt;`, `>` -> `&gt;`."""
    return html.escape(text, quote=False)


def like_contains(pattern: str) -> re.Pattern[str]:
    """SQL LIKE with "contains" semantics, case-insensitive: `%` is any run of characters, `_` one
    character, and a backslash makes the next character literal."""
    parts: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            parts.append(re.escape(next(chars, "\\")))
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)
