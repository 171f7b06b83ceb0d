"""GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/): the media type of
each /graphql response and the status codes that go with it.

- `application/graphql-response+json` when the client's `Accept` prefers it (the higher
  weight; on a tie the type it names explicitly, then the one it lists first). Its status
  says how far the request got: a request that fails before execution (the document does not
  parse or validate, the operation cannot be chosen, the variables do not coerce, a limit
  refuses it) is a 400 without a `data` entry; an operation that ran is a 200, with whatever
  errors its fields had (partial success).
- `application/json` otherwise, also for no `Accept`, `*/*` or `application/*` (a client
  that names neither type may not know the new one): the legacy rules, 200 for every
  well-formed request whatever its GraphQL errors, a 4xx only for a malformed HTTP request.
- An `Accept` that allows neither: 406 (the spec's SHOULD), with a JSON error body.

Every response of /graphql carries `Vary: Accept` (its media type depends on it). The media
type is chosen before anything else runs; `labelled` applies it to whatever answers: strawberry's
view, the compiled path's `_answer_admitted` and every refusal alike.
"""

from __future__ import annotations

import functools

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from strawberry.http import GraphQLHTTPResponse

from app.telemetry.describe import note_error_codes
from app.telemetry.record import current_request_id
from app.web.http import error_response, json_response

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
_LABEL = f"{GRAPHQL_RESPONSE}; charset=utf-8"
_MEDIA_TYPES = (JSON, GRAPHQL_RESPONSE)
# Not the request's fault: an outage or a timeout (503 with Retry-After, or 200 when a write
# may have committed, app/web/graphql_http.py) and a masked bug keep their status.
_SERVER_FAILURES = frozenset({"SERVICE_UNAVAILABLE", "TIMEOUT", "INTERNAL_SERVER_ERROR"})
_MAX_ACCEPT_LENGTH = 1024  # longer is not a header a GraphQL client sends: read as absent
NOT_ACCEPTABLE = (
    f"This endpoint answers {GRAPHQL_RESPONSE} or {JSON}: send an Accept header that allows "
    f"one of them (for example `Accept: {GRAPHQL_RESPONSE}, {JSON};q=0.9`)."
)


@functools.lru_cache(maxsize=256)  # a handful of distinct headers per client library
def negotiated(accept: str) -> str | None:
    """The media type of the response for this `Accept` header, None when it allows neither
    (406). An empty or absent header, `*/*` and `application/*` get application/json."""
    if not accept.strip() or len(accept) > _MAX_ACCEPT_LENGTH:
        return JSON
    ranges = _media_ranges(accept)
    best: tuple[float, int, int] | None = None
    chosen = None
    for media_type in _MEDIA_TYPES:  # application/json first: it wins an exact tie
        preference = _preference(media_type, ranges)
        if preference is not None and (best is None or preference > best):
            best, chosen = preference, media_type
    return chosen


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    """(media range, weight) in the order listed; malformed elements are left out."""
    ranges = []
    for element in accept.split(","):
        media_range, *parameters = (part.strip() for part in element.split(";"))
        media_range = "*/*" if media_range == "*" else media_range.lower()
        if media_range.count("/") != 1:
            continue
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    weight = -1.0
        if weight >= 0:
            ranges.append((media_range, weight))
    return ranges


def _preference(media_type: str, ranges: list[tuple[str, float]]) -> tuple[float, int, int] | None:
    """(weight, specificity, -position) of the most specific range that matches, as RFC 9110
    reads it; None when none matches or its weight is 0 (not acceptable)."""
    kind = media_type.split("/")[0]
    found: tuple[float, int, int] | None = None
    for position, (media_range, weight) in enumerate(ranges):
        specificity = {media_type: 2, f"{kind}/*": 1, "*/*": 0}.get(media_range)
        if specificity is None or (found is not None and specificity <= found[1]):
            continue
        found = (weight, specificity, -position)
    return None if found is None or found[0] == 0 else found


def media_type_of(request: Request) -> str:
    """The media type chosen for this request (application/json before it is chosen)."""
    chosen: str = getattr(request.state, "media_type", JSON)
    return chosen


def not_acceptable() -> Response:
    return error_response(NOT_ACCEPTABLE, "BAD_USER_INPUT", 406)


def shaped_result(request: Request, body: GraphQLHTTPResponse, errors: list[GraphQLError]) -> None:
    """Note the status of a result that failed before execution (no field ran: `data` is
    null and no error has a path); with application/graphql-response+json its `data` entry
    goes, as the spec says of a request error."""
    if body.get("data") is not None or not errors or any(e.path for e in errors):
        return
    codes = {(error.extensions or {}).get("code") for error in errors}
    if codes & _SERVER_FAILURES:
        return
    request.state.request_error = True
    if media_type_of(request) == GRAPHQL_RESPONSE:
        body.pop("data", None)


def request_error(request: Request, message: str, code: str) -> Response:
    """A GraphQL request error the view raised before execution (an operation name that names
    no operation): 400 with application/graphql-response+json, 200 with application/json."""
    extensions = {"code": code}
    request_id = current_request_id()
    if request_id is not None:
        extensions["requestId"] = request_id
    note_error_codes([code])
    error = {"message": message, "extensions": extensions}
    if media_type_of(request) == GRAPHQL_RESPONSE:
        return json_response({"errors": [error]}, status_code=400)
    return json_response({"data": None, "errors": [error]})


def labelled(request: Request, response: Response) -> Response:
    """The response with the chosen media type, and the status that type gives a request
    error. Anything but a JSON body (GraphiQL's page) is left as it is."""
    response.headers.add_vary_header("Accept")
    if response.headers.get("content-type") != JSON:
        return response
    if media_type_of(request) == GRAPHQL_RESPONSE:
        response.headers["content-type"] = _LABEL
        if getattr(request.state, "request_error", False) and response.status_code == 200:
            response.status_code = 400
    return response
