"""The rate limits at the transports: each GraphQL request over HTTP, and each operation a
WebSocket starts (subscriptions, queries and mutations alike), is charged its units
(resolvers/operation_units.py) to its user's and tenant's budgets (app/rate_limiter.py) once it
is signed in and before anything runs; the compiled fast path and the full way alike, since
the charge comes before either.

Over budget: HTTP 429 with `Retry-After` (seconds), the IETF RateLimit headers
(draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy: "user";q=3000;w=60, "tenant";...` and
`RateLimit: "user";r=0;t=12`, the budget that refused) and a GraphQL error coded RATE_LIMITED
with `retryAfter` and `scope`; a WebSocket operation gets that error as its `error` frame, and
the socket stays open. A served request carries the user's budget in the same headers. What is
not GraphQL (health, /livez, GraphiQL's page and assets, /metrics) is never charged, nor a
request refused before it is signed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response

from app.auth import Principal
from app.internals import graphql_schema
from app.rate_limiter import Budget, Policy, RateLimiter, Verdict
from app.settings import Settings
from app.telemetry.metrics import RATE_LIMIT_REFUSALS
from app.telemetry.record import Transport
from app.web.http import json_response
from app.web.ws_admission import OperationRequest
from resolvers.compiled.extension import Attempt
from resolvers.context import Context
from resolvers.operation_units import OperationUnits
from resolvers.schema import CrmSchema

RATE_LIMITED = "RATE_LIMITED"
RATE_LIMIT_HEADERS = ["Retry-After", "RateLimit", "RateLimit-Policy"]


class RateLimits:
    def __init__(self, limiter: RateLimiter, units: OperationUnits) -> None:
        self.limiter = limiter
        self.units = units
        self.policy_header = ", ".join(_policy_item(p) for p in limiter.policies())

    @classmethod
    def of(cls, limiter: RateLimiter, schema: object, settings: Settings) -> RateLimits:
        """For the app's schema, sharing its cost rule's cache of documents."""
        assert isinstance(schema, CrmSchema) and schema.costs is not None
        return cls(limiter, OperationUnits(graphql_schema(schema), schema.costs, settings))

    async def charge_http(
        self, request: Request, principal: Principal, attempt: Attempt | None
    ) -> Response | None:
        """None when the request may run (its verdict kept for `stamp`), else the 429."""
        if not self.limiter.enabled:
            return None
        query, name, variables = _operation(request, attempt)
        verdict = await self._charge(principal, self.units.of(query, name, variables), "http")
        request.state.rate_limit = verdict
        if verdict.allowed:
            return None
        error = refusal(verdict)
        extensions = {**(error.extensions or {}), "requestId": request_id_of(request)}
        body = {"errors": [{"message": error.message, "extensions": extensions}]}
        return json_response(body, status_code=429)

    def stamp(self, request: Request, response: Response) -> None:
        """The RateLimit headers (and Retry-After on a refusal) of a charged request."""
        verdict: Verdict | None = getattr(request.state, "rate_limit", None)
        if verdict is not None:
            response.headers.update(self.headers(verdict))

    def headers(self, verdict: Verdict) -> dict[str, str]:
        headers = {
            "RateLimit-Policy": self.policy_header,
            "RateLimit": _budget_item(verdict.budget),
        }
        if verdict.retry_after is not None:
            headers["Retry-After"] = str(verdict.retry_after)
        return headers

    def budget_of(self, context: Context) -> SocketBudget | None:
        """The budget a WebSocket connection charges its operations to (once signed in)."""
        return SocketBudget(self, context) if self.limiter.enabled else None

    async def charge_ws(self, principal: Principal, request: OperationRequest) -> None:
        """Raises the RATE_LIMITED error a WebSocket operation over budget is answered with."""
        units = self.units.of(request.query, request.operation_name, request.variables)
        verdict = await self._charge(principal, units, "ws")
        if not verdict.allowed:
            raise refusal(verdict)

    async def _charge(self, principal: Principal, units: int, transport: Transport) -> Verdict:
        tenant, user = str(principal.tenant_id), str(principal.user_id)
        verdict = await self.limiter.charge(tenant, user, units)
        if not verdict.allowed:
            RATE_LIMIT_REFUSALS.labels(verdict.scope, transport).inc()
        return verdict


class SocketBudget:
    """A connection's operations, charged to whoever signed it in (app/web/ws_admission.py)."""

    def __init__(self, limits: RateLimits, context: Context) -> None:
        self.limits = limits
        self.context = context

    async def charge(self, request: OperationRequest) -> None:
        await self.limits.charge_ws(self.context.principal, request)


def refusal(verdict: Verdict) -> GraphQLError:
    policy = verdict.budget.policy
    whose = "your" if policy.scope == "user" else "your tenant's"
    message = (
        f"Rate limit exceeded: {whose} budget of {policy.limit} units per {policy.window} s is "
        f"spent (this request costs {verdict.units}). Retry after {verdict.retry_after} s."
    )
    extensions = {"code": RATE_LIMITED, "retryAfter": verdict.retry_after, "scope": policy.scope}
    return GraphQLError(message, extensions=extensions)


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "-"))


def _policy_item(policy: Policy) -> str:
    return f'"{policy.scope}";q={policy.limit};w={policy.window}'


def _budget_item(budget: Budget) -> str:
    return f'"{budget.policy.scope}";r={budget.remaining};t={budget.reset}'


def _operation(
    request: Request, attempt: Attempt | None
) -> tuple[object, object, Mapping[str, Any] | None]:
    """The query, operation name and variables the request sends (unchecked: a malformed part
    costs a query's units, and the executor reports it)."""
    if attempt is not None:
        query, name = attempt.key
        return query, name, attempt.variables
    if request.method == "GET":
        params = request.query_params
        return params.get("query"), params.get("operationName"), _variables(params.get("variables"))
    return None, None, None


def _variables(sent: str | None) -> Mapping[str, Any] | None:
    if not sent:
        return None
    try:
        variables = orjson.loads(sent)
    except orjson.JSONDecodeError:
        return None
    return variables if isinstance(variables, dict) else None
