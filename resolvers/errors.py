"""Error policy: every error leaves with an `extensions.code`; unexpected ones are masked.

- errors without a path come from the request itself (syntax, validation, limits, variables):
  the client can fix them, so they keep their message and get BAD_USER_INPUT;
- AppErrors and deliberate GraphQL errors keep their message and code;
- anything else is a bug: the client sees "Unexpected error." and the request id, the log gets
  the full trace with the same request id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from app.errors import AppError

log = logging.getLogger("insight_crm.graphql")
MASKED_MESSAGE = "Unexpected error."


def _coded(error: GraphQLError, code: str) -> GraphQLError:
    extensions = dict(error.extensions or {})
    extensions.setdefault("code", code)
    error.extensions = extensions
    return error


def apply_error_policy(errors: list[GraphQLError], request_id: str) -> list[GraphQLError]:
    processed: list[GraphQLError] = []
    for error in errors:
        original = error.original_error
        if error.path is None:
            # Raised before execution (syntax, validation, limits, variable coercion): the
            # message already says what the client should fix.
            processed.append(_coded(error, "BAD_USER_INPUT"))
        elif isinstance(original, AppError | GraphQLError) or original is None:
            processed.append(_coded(error, "INTERNAL_SERVER_ERROR"))
        else:
            log.error("unexpected error [request %s]", request_id, exc_info=original)
            processed.append(
                GraphQLError(
                    MASKED_MESSAGE,
                    nodes=error.nodes,
                    path=error.path,
                    extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
                )
            )
    return processed


class ErrorPolicy(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result: Any = self.execution_context.result
        if result is not None and getattr(result, "errors", None):
            context = self.execution_context.context
            request_id = getattr(context, "request_id", "-")
            result.errors = apply_error_policy(result.errors, request_id)
