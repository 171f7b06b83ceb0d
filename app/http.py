"""HTTP helpers: orjson responses and GraphQL-shaped error bodies."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from app.errors import AppError


def json_response(
    body: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(body), status_code=status_code, media_type="application/json", headers=headers
    )


def error_response(
    message: str, code: str, status_code: int, headers: dict[str, str] | None = None
) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return json_response(body, status_code=status_code, headers=headers)


def app_error_response(error: AppError) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if error.code == "UNAUTHENTICATED" else None
    return error_response(error.message, error.code, error.http_status or 400, headers)
