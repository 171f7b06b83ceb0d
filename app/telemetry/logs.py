"""The log lines: one setup for every logger in the process, and the access line.

Every line goes through the standard library's `logging` (ours, uvicorn's, alembic's, arq's,
aiohttp's alike) into one handler whose formatter is structlog's `ProcessorFormatter`: the
same processors add the time, level, logger, the request id of the request (or job) being
served, and redact secrets, then render a JSON line (production) or a readable line (a
terminal). LOG_FORMAT chooses: `json`, `console`, or `auto` (console when stderr is a TTY).

The access line is one INFO line `request` on the logger `insight_crm.access` per HTTP request
and per WebSocket operation (`access_line`, a finisher of app/telemetry/record.py). It never
holds a token, a Lexware key or the request's variables: they are not among its fields, and
`redact_secrets` is the defence in depth for every other line.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Iterable
from typing import Any, Literal, TextIO

import orjson
import structlog
from structlog.types import EventDict, Processor, WrappedLogger

from app.telemetry import record as records
from app.telemetry.record import RequestRecord

LogFormat = Literal["auto", "json", "console"]
ACCESS = logging.getLogger("insight_crm.access")
_LEVELS = ("debug", "info", "warning", "error", "critical")
REDACTED = "[redacted]"
# A key naming any of these holds a secret: its value never reaches a line.
_SECRET_KEY_PARTS = (
    "authorization",
    "token",
    "api_key",
    "apikey",
    "password",
    "passwd",
    "secret",
    "cookie",
    "lexware_key",
    "private_key",
    "variables",
)
# A secret inside a message (an exception's text, a URL): a bearer credential or a JWT.
_SECRET_TEXT = re.compile(
    r"(?i:bearer)\s+[A-Za-z0-9._~+/=-]+|eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"
)
# Extras of third-party records that repeat the message (uvicorn's coloured copy).
_DROPPED_EXTRAS = ("color_message",)


_SECRET_KEY = re.compile("|".join(_SECRET_KEY_PARTS), re.IGNORECASE)


@functools.lru_cache(maxsize=1024)  # a line's keys are mostly the same few dozen names
def _is_secret_key(key: str) -> bool:
    return _SECRET_KEY.search(key) is not None


def _redacted(value: object, depth: int = 0) -> object:
    if type(value) is str:
        return _SECRET_TEXT.sub(REDACTED, value)
    if isinstance(value, dict) and depth < 3:
        return {
            k: REDACTED if isinstance(k, str) and _is_secret_key(k) else _redacted(v, depth + 1)
            for k, v in value.items()
        }
    return value


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Secrets out of every line: the value of any key that names one, and bearer tokens or
    JWTs written into a message or a value."""
    for key, value in event_dict.items():
        if _is_secret_key(key):
            event_dict[key] = REDACTED
        elif type(value) is str or isinstance(value, dict):
            event_dict[key] = _redacted(value)
    return event_dict


def add_request_id(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """The id of the request, job or cron run being served, on every line written for it."""
    if "request_id" not in event_dict:
        request_id = records.current_request_id()
        if request_id is not None:
            event_dict["request_id"] = request_id
    return event_dict


def _drop_extras(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    for key in _DROPPED_EXTRAS:
        event_dict.pop(key, None)
    return event_dict


def _json(value: Any, **_: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def _shared_processors() -> list[Processor]:
    return [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _drop_extras,
        add_request_id,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _renderer(log_format: LogFormat, stream: TextIO) -> list[Processor]:
    tty = stream.isatty()
    if log_format == "console" or (log_format == "auto" and tty):
        # Redacted after the exception is formatted: a token in a traceback is cut too.
        return [
            structlog.processors.format_exc_info,
            redact_secrets,
            structlog.dev.ConsoleRenderer(
                colors=tty, exception_formatter=structlog.dev.plain_traceback
            ),
        ]
    return [
        structlog.processors.format_exc_info,
        redact_secrets,
        structlog.processors.JSONRenderer(serializer=_json),
    ]


def setup_logging(
    level: str,
    log_format: LogFormat = "auto",
    *,
    quiet: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Every logger's lines through one handler on `stream` (stderr): `level` for the root,
    warnings and errors only for the `quiet` loggers. Replaces what was configured before, so
    calling it again (a test, a second command) leaves one handler."""
    out = stream if stream is not None else sys.stderr
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *_renderer(log_format, out),
        ],
    )
    # Nothing we render names the process or thread: the stdlib need not look them up per line.
    logging.logProcesses = logging.logMultiprocessing = logging.logThreads = False
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in quiet:
        logging.getLogger(name).setLevel(logging.WARNING)
    # structlog's own loggers (none of ours yet) end in the same handler.
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def library_level(level: str, verbose: bool) -> str:
    """The level of a chatty library's loggers: the server's own, or at least warning."""
    return level if verbose else max(level, "warning", key=_LEVELS.index)


def access_line(record: RequestRecord) -> None:
    """One `request` line with what the record knows (a finisher)."""
    if not ACCESS.isEnabledFor(logging.INFO):
        return
    ACCESS.info("request", extra=access_fields(record))


def access_fields(record: RequestRecord) -> dict[str, Any]:
    return {
        "request_id": record.request_id,
        "transport": record.transport,
        "tenant": record.tenant,
        "user": record.user,
        "operation": record.operation_name,
        "operation_type": record.operation_type,
        "status": record.status,
        "duration_ms": round(record.elapsed_seconds() * 1000, 2),
        "statements": record.statements,
        "response_bytes": record.response_bytes,
        "cost": record.cost,
        "error_codes": record.error_codes,
        "trace_id": record.trace_id,
    }


records.FINISHERS.append(access_line)
