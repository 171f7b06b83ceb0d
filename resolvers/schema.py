"""Schema assembly: root types merged from the domain modules, plus the abuse limits."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from app.internals import graphql_schema
from app.settings import Settings
from app.telemetry import tracing
from resolvers.activities.mutations import ActivityMutations
from resolvers.activities.queries import ActivityQueries
from resolvers.common.shared_descriptions import describe_root
from resolvers.companies.mutations import CompanyMutations
from resolvers.companies.queries import CompanyQueries
from resolvers.compiled.extension import CompiledExecution, CompiledQueries
from resolvers.concealment import Concealer, HidingExecutor, HidingValidationCache
from resolvers.contact_info.mutations import ContactInfoMutations
from resolvers.contacts.mutations import ContactMutations
from resolvers.contacts.queries import ContactQueries
from resolvers.context import Context, FreshLoaders
from resolvers.contracts.mutations import ContractMutations
from resolvers.contracts.queries import ContractQueries
from resolvers.data_quality.queries import DataQualityQueries
from resolvers.deals.mutations import DealMutations
from resolvers.deals.queries import DealQueries
from resolvers.duplicates.queries import DuplicateQueries
from resolvers.errors import ErrorPolicy, apply_error_policy
from resolvers.events.queries import EventQueries
from resolvers.events.subscriptions import EventSubscriptions
from resolvers.lexware.mutations import LexwareContactMutations
from resolvers.lexware.queries import LexwareQueries
from resolvers.lexware.vouchers import LexwareVoucherMutations
from resolvers.lookups.mutations import LookupMutations
from resolvers.lookups.queries import LookupQueries
from resolvers.me.mutations import MeMutations
from resolvers.me.queries import MeQueries
from resolvers.merges.mutations import MergeMutations
from resolvers.mutation_roots import serial_mutations
from resolvers.nodes.queries import NodeQueries
from resolvers.operation_choice import OperationChoice
from resolvers.operation_record import OperationRecord
from resolvers.owners.mutations import OwnerMutations
from resolvers.owners.queries import OwnerQueries
from resolvers.parser_cache import ReportingParserCache
from resolvers.pipelines.mutations import PipelineMutations
from resolvers.pipelines.queries import PipelineQueries
from resolvers.privacy.mutations import PrivacyMutations
from resolvers.privacy.queries import PrivacyQueries
from resolvers.query_cost import QueryCostLimit, QueryCosts
from resolvers.relationships.mutations import RelationshipMutations
from resolvers.relationships.queries import RelationshipQueries
from resolvers.scalars import SCALAR_OVERRIDES
from resolvers.search.queries import SearchQueries
from resolvers.shared_streams import SharedStreams, shareable
from resolvers.trash.mutations import TrashMutations
from resolvers.trash.queries import TrashQueries

Query = merge_types(
    "Query",
    (
        MeQueries,
        ActivityQueries,
        CompanyQueries,
        ContactQueries,
        ContractQueries,
        RelationshipQueries,
        DealQueries,
        PipelineQueries,
        LookupQueries,
        OwnerQueries,
        EventQueries,
        LexwareQueries,
        SearchQueries,
        TrashQueries,
        DataQualityQueries,
        PrivacyQueries,
        DuplicateQueries,
        NodeQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        MeMutations,
        ActivityMutations,
        CompanyMutations,
        ContactMutations,
        ContactInfoMutations,
        ContractMutations,
        RelationshipMutations,
        DealMutations,
        PipelineMutations,
        OwnerMutations,
        LookupMutations,
        LexwareContactMutations,
        LexwareVoucherMutations,
        TrashMutations,
        MergeMutations,
        PrivacyMutations,
    ),
)
serial_mutations(Mutation)  # each nullable, answered with its own loaders (mutation_roots.py)

Subscription = merge_types("Subscription", (EventSubscriptions,))
describe_root(
    Query,
    "Reads. Every request needs a valid token (`Authorization: Bearer ...`; else "
    "UNAUTHENTICATED) and sees only its tenant's data; CRM data needs one of the roles viewer, "
    "member or admin (else FORBIDDEN). An id of another tenant answers like one that does not "
    "exist.",
)
describe_root(
    Mutation,
    "Writes, each in its own transaction: CRM data needs the role member or admin (viewer is "
    "read-only: FORBIDDEN), lookup lists and users admin. Bad input is BAD_USER_INPUT naming "
    "each field, and nothing is written. The mutations of one document run one after another; "
    "each field is nullable, so one that fails answers null with its error (its `path`) while "
    "the others, committed, keep their answers. Each answers the records it changed, with "
    "their ids, read after its write (deletes: the id).",
)
describe_root(
    Subscription,
    "Live updates over the WebSocket (graphql-transport-ws or graphql-ws), with the token in "
    "the connection_init payload; never over plain HTTP.",
)


def validation_rules(settings: Settings) -> list[Any]:
    """The abuse limits as validation rules, built once per schema. The depth and alias
    limiters make a new rule class per instance, and the validation cache is keyed by the rule
    classes: built per request, no document would ever be validated from the cache."""
    rules: list[Any] = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    if not settings.introspection_enabled:
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules


def _extensions(settings: Settings, compiled: CompiledQueries, costs: QueryCosts) -> list[Any]:
    # Factories, so each request gets fresh extension state; the parser and validation caches
    # live at module level in strawberry, keyed by their size, and are shared across requests.
    return [
        *_tracing_extensions(),  # first: its span holds the whole operation
        ErrorPolicy,
        FreshLoaders,
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        partial(ReportingParserCache, maxsize=settings.document_cache_size),
        partial(AddValidationRules, validation_rules(settings)),
        # Without introspection, validation leaves out its suggestions (resolvers/concealment.py)
        partial(
            ValidationCache if settings.introspection_enabled else HidingValidationCache,
            maxsize=settings.document_cache_size,
        ),
        partial(QueryCostLimit, costs=costs),  # after the validation cache: it reads its errors
        OperationChoice,  # after both: a valid document of several operations needs a name
        partial(CompiledExecution, queries=compiled),
        OperationRecord,  # the access line's operation (resolvers/operation_record.py)
    ]


def _tracing_extensions() -> list[Any]:
    """The GraphQL operation's span, while tracing is on (imported only then)."""
    if not tracing.enabled():
        return []
    from resolvers.tracing import OperationSpans

    return [OperationSpans]


class CrmSchema(strawberry.Schema):
    def __init__(
        self,
        *args: Any,
        compiled: CompiledQueries | None = None,
        costs: QueryCosts | None = None,
        conceal: bool = False,
        **kwargs: Any,
    ) -> None:
        if conceal:  # variables and arguments are coerced without suggestions
            kwargs["execution_context_class"] = HidingExecutor
        super().__init__(*args, **kwargs)
        self.shared_streams = SharedStreams()
        self.compiled = compiled
        self.costs = costs
        self.concealer = Concealer(graphql_schema(self)) if conceal else None

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """As strawberry's, but never a subscription: `execute` answers once (HTTP), and a
        subscription run so was a masked error with a traceback. It is refused before it
        runs (InvalidOperationTypeError; the HTTP view says to use the WebSocket);
        subscriptions run through `stream`."""
        allowed = set(allowed_operation_types or OperationType) - {OperationType.SUBSCRIPTION}
        return await super().execute(
            query, variable_values, context_value, root_value, operation_name, allowed,
            operation_extensions,
        )  # fmt: skip

    async def stream(  # type: ignore[override]
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        **options: Any,
    ) -> Any:
        """Subscriptions that may be shared attach to the one running stream of their
        (document, variables, tenant); everything else streams as strawberry does."""

        def begin(context: Any) -> Any:
            return super(CrmSchema, self).stream(
                query, variable_values, context, root_value, operation_name, **options
            )

        shared = self.shared_streams
        if (
            query is not None
            and isinstance(context_value, Context)
            and shareable(query, operation_name)
            and shared.may_join(context_value)
        ):
            key = shared.key(context_value, query, variable_values, operation_name)
            # A subscriber joining a running stream runs no extension: its own span (tracing).
            with tracing.operation_span(query, operation_name, "subscription"):
                return shared.join(key, context_value, begin)
        return await begin(context_value)

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Strawberry would log every error with a trace; instead the error policy codes and
        masks them, in place. This is the one hook every subscription result passes through
        (ErrorPolicy.on_operation covers queries and mutations). Without introspection, the
        messages are first rewritten to name only what the client sent."""
        context = getattr(execution_context, "context", None)
        if self.concealer is not None:
            self.concealer.conceal(errors, execution_context)
        errors[:] = apply_error_policy(errors, getattr(context, "request_id", "-"))


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The executable schema; without settings, the bare schema (for exporting the SDL)."""
    if settings is None:
        return CrmSchema(
            query=Query,
            mutation=Mutation,
            subscription=Subscription,
            scalar_overrides=SCALAR_OVERRIDES,
        )
    compiled = CompiledQueries(settings.compiled_execution, settings.document_cache_size)
    costs = QueryCosts(settings)
    return CrmSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        scalar_overrides=SCALAR_OVERRIDES,
        extensions=_extensions(settings, compiled, costs),
        compiled=compiled,
        costs=costs,
        conceal=not settings.introspection_enabled,
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
