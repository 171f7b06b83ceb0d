"""Which operation of a document runs, and the code of a document's validation errors.

GraphQL's GetOperation(): a document of several operations needs an `operationName`.
strawberry takes the first operation when none is named (its `operation_name` falls back to
the first's name and graphql-core is handed that), so `query A {...} query B {...}` ran A;
here it is refused before anything runs, as the spec says, with Apollo Server's code
OPERATION_RESOLUTION_FAILURE. (An `operationName` that names no operation strawberry refuses
itself: the HTTP view answers it, resolvers/errors.py codes it on a WebSocket.)

Validation errors (GraphQL's rules and ours: depth, aliases, introspection switched off) get
GRAPHQL_VALIDATION_FAILED, the code Apollo's clients recognize; an error that has a code of
its own (the cost limit's BAD_USER_INPUT) keeps it.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from app.internals import provided_operation_name
from resolvers.errors import GRAPHQL_VALIDATION_FAILED, OPERATION_RESOLUTION_FAILURE

SEVERAL_OPERATIONS = (
    "The document holds several operations ({names}): send `operationName` to say which one to run."
)


def unchosen_operation(document: DocumentNode, operation_name: str | None) -> GraphQLError | None:
    """The request error of a document of several operations sent without `operationName`."""
    if operation_name is not None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) < 2:
        return None
    names = ", ".join(o.name.value if o.name else "(anonymous)" for o in operations)
    return GraphQLError(
        SEVERAL_OPERATIONS.format(names=names),
        extensions={"code": OPERATION_RESOLUTION_FAILURE},
    )


class OperationChoice(SchemaExtension):
    """After the validation cache and the cost limit (their errors come first)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.pre_execution_errors:
            refusal = unchosen_operation(document, provided_operation_name(context))
            if refusal is not None:
                context.pre_execution_errors = [refusal]
        yield
        for error in context.pre_execution_errors or ():
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": GRAPHQL_VALIDATION_FAILED}
