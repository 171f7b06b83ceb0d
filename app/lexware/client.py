"""The Lexware Office HTTP client: JSON over aiohttp, the shared rate limit, bounded retries,
and Lexware's errors turned into ours.

- 429: wait for Retry-After (or 1, 2, 4 s with jitter) and try again.
- 5xx, timeouts, refused connections: retried a bounded number of times, then
  LEXWARE_UNAVAILABLE. A POST is not repeated after a 500, 504 or timeout (it may have been
  carried out): `LexwareMaybeDone` tells the caller to look before trying again.
- Other 4xx are not retried: 400 and 406 -> BAD_USER_INPUT (Lexware refused what the CRM sent:
  what it said, with its field paths where it names them), 409 -> CONFLICT, 404 -> NOT_FOUND,
  401/402/403 -> LEXWARE_UNAVAILABLE (the key is refused).
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from app.errors import BadUserInput, Conflict, FieldProblem, LexwareUnavailable, NotFound
from app.lexware.limiter import RateLimiter
from app.telemetry.metrics import LEXWARE_CALLS

log = logging.getLogger(__name__)
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
NOT_REPEATED_POST = frozenset({500, 504})
THROTTLED_ATTEMPTS = 6  # 429s in a row before giving up (1, 2, 4, 8, 16 s apart)
# An attribute path such as `addresses.billing[0].countryCode`; a `source` that is not one is
# Lexware's text ("size must be between 3 and 2147483647").
_PATH = re.compile(r"^[A-Za-z_]\w*(\[\d+\])?(\.[A-Za-z_]\w*(\[\d+\])?)*$")
MAX_PROBLEMS, MAX_TEXT = 20, 200  # of Lexware's error text passed on to the client


class LexwareMaybeDone(LexwareUnavailable):
    """A write's answer was lost (timeout, 500, 504): it may or may not have happened."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # in all, the first included
    base_delay: float = 0.5
    max_wait_for_slot: float = 10.0  # seconds a call may queue for the rate limit


class LexwareClient:
    """One tenant's (one API key's) view of the Lexware API."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        base_url: str,
        api_key: str,
        limiter: RateLimiter,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._limiter = limiter
        self._policy = policy or RetryPolicy()

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, body: Any) -> Any:
        return await self.request("POST", path, body=body)

    async def put(self, path: str, body: Any) -> Any:
        return await self.request("PUT", path, body=body)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        failures = throttled = 0
        while True:
            outcome = await self._attempt(method, path, params, body)
            if not isinstance(outcome, _Retry):
                return outcome
            if outcome.throttled:  # 429: Lexware is fine, we are early; wait longer, not give up
                throttled += 1
                if throttled >= THROTTLED_ATTEMPTS:
                    raise outcome.final
                await asyncio.sleep(outcome.delay(throttled, 1.0))
                continue
            failures += 1
            if failures >= self._policy.attempts:
                raise outcome.final
            await asyncio.sleep(outcome.delay(failures, self._policy.base_delay))

    async def _attempt(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any
    ) -> Any:
        await self._limiter.acquire(self._api_key, self._policy.max_wait_for_slot)
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = orjson.dumps(body)
        url = self._base_url + path
        try:
            async with self._http.request(
                method, url, params=_query(params), data=data, headers=headers
            ) as response:
                status, raw = response.status, await response.read()
                retry_after = response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as error:
            LEXWARE_CALLS.labels("timeout" if isinstance(error, TimeoutError) else "network").inc()
            return self._unreachable(method, path, error)
        LEXWARE_CALLS.labels(_outcome(status)).inc()
        if status < 300:
            return orjson.loads(raw) if raw else None
        return self._failed(method, path, status, raw, retry_after)

    def _unreachable(self, method: str, path: str, error: BaseException) -> _Retry:
        log.warning("lexware %s %s: %s", method, path, type(error).__name__)
        if method == "POST" and not isinstance(error, aiohttp.ClientConnectorError):
            raise LexwareMaybeDone("Lexware did not answer in time; the change may have been made.")
        return _Retry(LexwareUnavailable("Lexware Office cannot be reached right now."))

    def _failed(
        self, method: str, path: str, status: int, raw: bytes, retry_after: str | None
    ) -> _Retry:
        log.warning("lexware %s %s answered %d", method, path, status)
        if status in RETRIED_STATUSES:
            if method == "POST" and status in NOT_REPEATED_POST:
                raise LexwareMaybeDone(f"Lexware answered {status}; the change may have been made.")
            message = "Lexware Office is not available right now; try again later."
            final = LexwareUnavailable(message, status=status)
            return _Retry(final, _seconds(retry_after), throttled=status == 429)
        raise _error_for(status, _json_or_none(raw))


@dataclass
class _Retry:
    final: Exception
    after: float | None = None  # Retry-After, when Lexware said
    throttled: bool = False

    def delay(self, attempt: int, base: float) -> float:
        if self.after is not None:
            return self.after
        return base * 2.0 ** (attempt - 1) * (0.5 + random.random())  # noqa: S311 (jitter)


def _outcome(status: int) -> str:
    """An answer's label in crm_lexware_requests_total (each attempt counts)."""
    if status < 300:
        return "ok"
    if status == 429:
        return "rate_limited"
    return "server_error" if status >= 500 else "client_error"


def _query(params: dict[str, Any] | None) -> dict[str, str] | None:
    if params is None:
        return None
    return {k: _text(v) for k, v in params.items() if v is not None}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _seconds(header: str | None) -> float | None:
    try:
        return min(float(header), 30.0) if header else None
    except ValueError:
        return None


def _json_or_none(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None


def _error_for(status: int, body: Any) -> Exception:
    if status in (400, 406):
        return _refused(status, body)
    if status == 409:
        return Conflict("The Lexware contact was changed by someone else.")
    if status == 404:
        return NotFound("Lexware contact")
    if status in (401, 402, 403):
        return LexwareUnavailable(
            "Lexware Office refused the API key (expired, revoked or without rights); "
            "an admin must set a valid key.",
            status=status,
        )
    return LexwareUnavailable(f"Lexware Office answered {status}.", status=status)


def _refused(status: int, body: Any) -> BadUserInput:
    """Lexware refused what the CRM sent (400 malformed, 406 invalid): the CRM's data to fix."""
    problems = _problems(body)
    said = "; ".join(
        p.message if p.field == "lexware" else f"{p.field.removeprefix('lexware.')}: {p.message}"
        for p in problems
    )
    return BadUserInput(problems, f"Lexware Office refused the data ({status}): {said}.")


def _clip(value: Any) -> str:
    return str(value)[:MAX_TEXT]


def _problem(field: Any, message: Any) -> FieldProblem:
    """A field where Lexware names one (an attribute path), else its text as the message."""
    if isinstance(field, str) and _PATH.match(field):
        return FieldProblem(f"lexware.{field}", _clip(message))
    if isinstance(field, str) and field:
        return FieldProblem("lexware", _clip(field if message is None else f"{message}: {field}"))
    return FieldProblem("lexware", _clip(message))


def _problems(body: Any) -> list[FieldProblem]:
    """Both of Lexware's error formats: the legacy IssueList (`source`: a path, a text or null)
    and the regular body (`details` with fields, or only its `message`)."""
    problems: list[FieldProblem] = []
    if isinstance(body, dict):
        for issue in body.get("IssueList") or []:
            if isinstance(issue, dict):
                problems.append(_problem(issue.get("source"), issue.get("i18nKey")))
        for detail in body.get("details") or []:
            if isinstance(detail, dict):
                problems.append(_problem(detail.get("field"), detail.get("message")))
        if not problems and isinstance(body.get("message"), str):
            problems.append(FieldProblem("lexware", _clip(body["message"])))
    return problems[:MAX_PROBLEMS] or [FieldProblem("lexware", "invalid data")]
