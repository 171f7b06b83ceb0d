"""Error policy: every error leaves with an `extensions.code`; unexpected ones are masked.

- errors without a path come from the request itself (syntax, validation, limits, variables):
  the client can fix them, so they keep their message and get a code Apollo's clients know:
  GRAPHQL_PARSE_FAILED (syntax, the token limit), GRAPHQL_VALIDATION_FAILED (validation rules,
  given in resolvers/operation_choice.py), OPERATION_RESOLUTION_FAILURE (which operation to
  run), else BAD_USER_INPUT (variables, the other limits);
- AppErrors and deliberate GraphQL errors keep their message and code;
- a database outage or timeout gets SERVICE_UNAVAILABLE or TIMEOUT (app/data/failures.py);
- anything else is a bug: the client sees "Unexpected error." and the request id, the log gets
  the full trace with the same request id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError

from app.data.failures import database_failure, log_failure
from app.errors import AppError, ServiceUnavailable

log = logging.getLogger("insight_crm.graphql")
MASKED_MESSAGE = "Unexpected error."
# The codes of request errors that Apollo Server gives and its clients (and others) recognize.
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"


# Errors the client caused and can read: ours and GraphQL's own, plus (before execution only)
# scalar parsing of variables: a value that is not a valid date, id, ... Anything else,
# including a ValueError or TypeError raised while resolving, is a bug and gets masked.
_CLIENT_FACING = (AppError, GraphQLError)
# CannotGetOperationTypeError: an operationName the document does not define, or none named
# in a document of several (HTTP answers it in the view; a WebSocket operation, here).
_CLIENT_FACING_BEFORE_EXECUTION = (
    *_CLIENT_FACING,
    ValueError,
    TypeError,
    CannotGetOperationTypeError,
)
# graphql-core 3.3: "Variable '$input' has invalid value at .emails[0].value: ..."
_VARIABLE_AT = re.compile(r"^Variable '\$(\w+)' has invalid value at ((?:\.\w+|\[\d+\])+):")
_VARIABLE = re.compile(r"^Variable '\$(\w+)'")


def _coded(error: GraphQLError, code: str) -> GraphQLError:
    extensions = dict(error.extensions or {})
    extensions.setdefault("code", code)
    if extensions["code"] == "BAD_USER_INPUT" and "fields" not in extensions:
        extensions["fields"] = _fields_of(error.message)
    error.extensions = extensions
    return error


def _request_error_code(error: GraphQLError) -> str:
    if isinstance(error, GraphQLSyntaxError):
        return GRAPHQL_PARSE_FAILED
    if isinstance(error.original_error, CannotGetOperationTypeError):
        return OPERATION_RESOLUTION_FAILURE
    return "BAD_USER_INPUT"


def _fields_of(message: str) -> list[dict[str, str]]:
    """For a bad variable, name the input path; other request errors concern the document."""
    match = _VARIABLE_AT.match(message) or _VARIABLE.match(message)
    if match is None:
        return []
    field = "".join(match.groups())  # the variable, then the path inside it, if any
    return [{"field": field, "message": message}]


def _masked(error: GraphQLError, request_id: str) -> GraphQLError:
    log.error("unexpected error [request %s]", request_id, exc_info=error.original_error)
    return GraphQLError(
        MASKED_MESSAGE,
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    )


def _named_failure(
    error: GraphQLError, failure: ServiceUnavailable, request_id: str
) -> GraphQLError:
    # One line, the trace at debug level: an outage would otherwise fill the log.
    log_failure(failure, error.original_error or error, request_id)
    return GraphQLError(
        failure.message,
        nodes=error.nodes,
        path=error.path,
        original_error=failure,
        extensions=failure.extensions,
    )


def apply_error_policy(errors: list[GraphQLError], request_id: str) -> list[GraphQLError]:
    processed: list[GraphQLError] = []
    for error in errors:
        original = error.original_error
        readable = _CLIENT_FACING if error.path else _CLIENT_FACING_BEFORE_EXECUTION
        failure = None if original is None else database_failure(original)
        if failure is not None and failure is not original:
            processed.append(_named_failure(error, failure, request_id))
        elif original is not None and not isinstance(original, readable):
            processed.append(_masked(error, request_id))
        elif error.path is None:
            # Before execution (syntax, validation, limits, variable coercion): the message
            # already says what the client should fix.
            processed.append(_coded(error, _request_error_code(error)))
        else:
            processed.append(_coded(error, "INTERNAL_SERVER_ERROR"))
    for error in processed:  # every error names its request, for the operator's log search
        error.extensions = {**(error.extensions or {}), "requestId": request_id}
    return processed


class ErrorPolicy(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result: Any = self.execution_context.result
        if result is not None and getattr(result, "errors", None):
            context = self.execution_context.context
            request_id = getattr(context, "request_id", "-")
            result.errors = apply_error_policy(result.errors, request_id)
