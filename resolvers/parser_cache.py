"""Strawberry's parser cache, reporting a document that does not parse like strawberry does."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import ParserCache


class ReportingParserCache(ParserCache):
    """Strawberry's ParserCache parses in its hook, outside the error handling of the
    streaming path (WebSocket): there a syntax error, or a document over the token limit,
    escaped as an exception instead of becoming the operation's coded error. A document
    the cache cannot parse is left to strawberry's own parse, which reports it on every
    transport (parsing it once more costs no more than the first time: the token limit
    aborts both)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield
