"""HTTP helpers: orjson responses and GraphQL-shaped error bodies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from app.errors import AppError, ServiceUnavailable, Timeout
from app.telemetry.describe import note_error_codes
from app.telemetry.record import current_request_id


def json_response(
    body: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(body), status_code=status_code, media_type="application/json", headers=headers
    )


def error_response(
    message: str, code: str, status_code: int, headers: dict[str, str] | None = None
) -> Response:
    extensions = {"code": code}
    request_id = current_request_id()
    if request_id is not None:  # every error names its request (app/web/served.py)
        extensions["requestId"] = request_id
        note_error_codes([code])
    body = {"errors": [{"message": message, "extensions": extensions}]}
    return json_response(body, status_code=status_code, headers=headers)


def app_error_response(error: AppError) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if error.code == "UNAUTHENTICATED" else None
    if isinstance(error, ServiceUnavailable):
        headers = retry_after(error.retry_after_seconds)
    return error_response(error.message, error.code, error.http_status or 400, headers)


def retry_after(seconds: int) -> dict[str, str]:
    return {"Retry-After": str(seconds)}


def retry_later_seconds(body: Mapping[str, Any]) -> int | None:
    """Seconds to retry after, when an outage or a timeout left a GraphQL response without any
    data (HTTP 503); None otherwise. A partial answer, where some root field has its value,
    stays a 200 that carries the errors of the rest."""
    errors = body.get("errors")
    data = body.get("data")
    if not errors or (isinstance(data, Mapping) and any(v is not None for v in data.values())):
        return None
    codes = {error.get("extensions", {}).get("code") for error in errors}
    for failure in (ServiceUnavailable, Timeout):
        if failure.code in codes:
            return failure.retry_after_seconds
    return None
