"""The compiled execution path, hooked into strawberry: after parsing, validation and the
limits, a query the compiler covers is answered from its plan; anything else (and any run that
meets an error to report) goes through the normal executor. A database outage or timeout is
the exception: the executor would only wait (or fail) again, so it is the answer.

A document POSTed and answered once this way is *admitted*: it parsed, passed validation and
every limit (all of them depend on the document's text and the schema only, but the query cost,
which the HTTP view evaluates with each request's variables first), so the HTTP view
answers it again from the plan straight away (`CompiledQueries.answer_admitted`), without
strawberry's view, parse and validation cache lookups and extension hooks. A run that meets
anything to report still falls back to the full path, which reports it.

COMPILED_EXECUTION=verify runs both and compares them (the test suite does this for every
query it sends): a difference is logged and recorded in `MISMATCHES`.
"""

from __future__ import annotations

import functools
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from graphql import (
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    parse,
)
from strawberry.extensions import SchemaExtension

from app.data.failures import database_failure, log_failure
from app.errors import AppError, ServiceUnavailable
from app.internals import graphql_schema
from app.telemetry.describe import note_operation
from resolvers.compiled.nodes import Plan
from resolvers.compiled.plan import compile_plan
from resolvers.compiled.run import run_plan
from resolvers.compiled.sql import NotCompilable
from resolvers.context import Context

log = logging.getLogger(__name__)
Mode = Literal["on", "off", "verify"]


@dataclass(frozen=True)
class Mismatch:
    query: str
    variables: dict[str, Any] | None
    compiled: Any
    executed: Any


MISMATCHES: list[Mismatch] = []  # verify mode only: what the compiled path got wrong
# True while a compiled plan runs (SQLAlchemy carries it into its statement events), so a
# statement counter can tell the two paths apart in verify mode.
COMPILED_RUN: ContextVar[bool] = ContextVar("compiled_run", default=False)


@dataclass
class Attempt:
    """One HTTP request's document, keyed as the client sent it (the name it gave, or None),
    and its variables."""

    key: tuple[str, str | None]
    variables: dict[str, Any] | None
    tried: bool = False  # its admitted plan ran and met something to report


# The HTTP view's attempt while the request runs, so the full path it falls back to neither
# runs the same plan again nor admits the document under another key.
ATTEMPT: ContextVar[Attempt | None] = ContextVar("compiled_attempt", default=None)


def attempt_for(query: Any, operation_name: Any, variables: Any) -> Attempt | None:
    """An attempt for a well-formed request; anything else goes the full way, which reports it."""
    if not isinstance(query, str) or not isinstance(operation_name, str | None):
        return None
    if not isinstance(variables, dict | None):
        return None
    return Attempt((query, operation_name), variables)


class CompiledQueries:
    """The plans of one schema, cached by document (a failed compile is cached as None), and
    the documents admitted to be answered from their plans straight away (mode "on" only:
    verify mode compares every request with the executor)."""

    def __init__(self, mode: Mode, cache_size: int) -> None:
        self.mode = mode
        self.plan_for = functools.lru_cache(maxsize=cache_size)(self._compile)
        self.cache_size = cache_size
        self._admitted: OrderedDict[tuple[str, str | None], Plan] = OrderedDict()

    def admit(self, plan: Plan) -> None:
        """Admit the HTTP request's document, which the full path just answered from `plan`."""
        attempt = ATTEMPT.get()
        if self.mode != "on" or attempt is None:
            return
        self._admitted[attempt.key] = plan
        while len(self._admitted) > self.cache_size:
            self._admitted.popitem(last=False)  # the least recently used

    def admits(self, attempt: Attempt) -> bool:
        """Whether a plan answers this document (it passed every limit the full way before)."""
        return attempt.key in self._admitted

    async def answer_admitted(
        self, strawberry_schema: Any, attempt: Attempt, context: Context
    ) -> dict[str, Any] | None:
        """The `data` of an admitted document from its plan, or None: the full path answers."""
        plan = self._admitted.get(attempt.key)
        if plan is None:
            return None
        self._admitted.move_to_end(attempt.key)
        name = plan.operation.name
        note_operation(name.value if name else None, "query", validated=True)  # access line
        data = await run_compiled(plan, strawberry_schema, context, attempt.variables)
        attempt.tried = data is None
        return data

    def _compile(self, schema: Any, query: str, operation_name: str | None) -> Plan | None:
        document = parse(query)
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        chosen = [
            o
            for o in operations
            if operation_name is None or (o.name is not None and o.name.value == operation_name)
        ]
        if len(chosen) != 1:
            return None
        try:
            return compile_plan(schema, chosen[0], fragments)
        except NotCompilable as reason:
            log.debug("not compiled: %s", reason)
        except Exception:  # a compiler bug must not fail the request: the executor answers
            log.warning("compiling failed for %s", query, exc_info=True)
        return None


class CompiledExecution(SchemaExtension):
    def __init__(self, *, queries: CompiledQueries) -> None:
        self.queries = queries

    async def on_execute(self) -> AsyncIterator[None]:
        try:
            data = await self._compiled_data() if self.queries.mode != "off" else None
        except ServiceUnavailable as failure:  # the answer: the executor does not run
            error = GraphQLError(failure.message, original_error=failure)
            self.execution_context.result = ExecutionResult(data=None, errors=[error])
            yield
            return
        if data is not None and self.queries.mode == "on":
            self.execution_context.result = ExecutionResult(data=data, errors=None)
        yield
        if data is not None and self.queries.mode == "verify":
            self._compare(data)

    async def _compiled_data(self) -> dict[str, Any] | None:
        context = self.execution_context.context
        query = self.execution_context.query
        if not isinstance(context, Context) or query is None:
            return None
        attempt = ATTEMPT.get()
        if attempt is not None and attempt.tried:
            return None  # its plan has just met something to report: the executor reports it
        strawberry_schema: Any = self.execution_context.schema
        name = self.execution_context.operation_name
        plan = self.queries.plan_for(graphql_schema(strawberry_schema), query, name)
        if plan is None:
            return None
        data = await run_compiled(
            plan, strawberry_schema, context, self.execution_context.variables
        )
        if data is not None:
            self.queries.admit(plan)
        return data

    def _compare(self, compiled: dict[str, Any]) -> None:
        result = self.execution_context.result
        executed = getattr(result, "data", None)
        errors = getattr(result, "errors", None)
        if not errors and orjson.dumps(compiled) == orjson.dumps(executed):
            return
        query = self.execution_context.query or ""
        log.error("compiled execution differs from the executor for %s", query)
        MISMATCHES.append(
            Mismatch(query, self.execution_context.variables, compiled, errors or executed)
        )


async def run_compiled(
    plan: Plan, strawberry_schema: Any, context: Context, variables: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The plan's `data`, or None when the normal executor must answer (with its errors).
    ServiceUnavailable (or Timeout) when the database failed it: a statement cancelled at its
    time limit is never sent again."""
    marker = COMPILED_RUN.set(True)
    try:
        return await run_plan(
            plan,
            graphql_schema(strawberry_schema),
            strawberry_schema.schema_converter,
            context,
            variables,
        )
    except ServiceUnavailable:
        raise
    except (NotCompilable, AppError):
        return None  # the normal executor answers, with its errors
    except Exception as error:
        failure = database_failure(error)
        if failure is not None:
            log_failure(failure, error, context.request_id)
            raise failure from error
        log.warning("compiled execution failed; the executor answers", exc_info=True)
        return None
    finally:
        COMPILED_RUN.reset(marker)
