"""Every Prometheus metric the server exports, defined once (names and labels follow the
Prometheus conventions: `crm_` prefix, base units, `_total` on counters).

Labels stay bounded: no id, tenant or user is ever a label. `operation` is a name from the
allowlist of documents this process has seen (`operation_label`); anything else is "other".
Where a value lives elsewhere (the pool, the outbox), a collector reads it at scrape time.
`/metrics` is served on its own listener, off unless METRICS_PORT is set (app/telemetry/
exposition.py): never on the public port by accident.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# No `<name>_created` series beside each counter and histogram: in the text format Prometheus
# reads, they are one more gauge per series that nothing here needs (half the series).
disable_created_metrics()

# Requests: one per HTTP request and per WebSocket operation.
REQUESTS = Counter(
    "crm_requests_total",
    "GraphQL requests served, by transport, operation and outcome",
    ["transport", "operation_type", "operation", "outcome"],
)
REQUEST_DURATION = Histogram(
    "crm_request_duration_seconds",
    "Time to serve a GraphQL request (a WebSocket operation: until its first answer)",
    ["transport", "operation_type", "operation"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ERRORS = Counter("crm_errors_total", "GraphQL errors answered, by extensions.code", ["code"])
STATEMENTS_PER_REQUEST = Histogram(
    "crm_sql_statements_per_request",
    "SQL statements sent to serve one request",
    ["transport", "operation_type"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100),
)
RESPONSE_BYTES = Histogram(
    "crm_response_bytes",
    "Size of a GraphQL response body",
    ["transport", "operation_type"],
    buckets=(256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304),
)

# Database pool (read at scrape time).
DB_POOL_CONNECTIONS = Gauge(
    "crm_db_pool_connections", "Connections of the request pool, by state", ["state"]
)

# Live events.
SUBSCRIPTIONS_LIVE = Gauge("crm_subscriptions_live", "GraphQL subscriptions open now")
EVENTS_UNPUBLISHED = Gauge(
    "crm_events_unpublished", "Committed events in the outbox not yet published to Redis"
)
RELAY_LAG = Gauge(
    "crm_event_relay_lag_seconds", "Age of the oldest committed event not yet published"
)
EVENTS_PUBLISHED = Counter("crm_events_published_total", "Events the relay published")
HUB_RECONNECTS = Counter(
    "crm_event_hub_reconnects_total", "Times the event hub connected to Redis again"
)

# Lexware Office.
LEXWARE_CALLS = Counter(
    "crm_lexware_requests_total", "Requests to the Lexware Office API, by outcome", ["outcome"]
)
LEXWARE_LIMITER_WAIT = Histogram(
    "crm_lexware_limiter_wait_seconds",
    "Time a Lexware request waited for the 2 requests/second limit",
    buckets=(0, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
)

# Crons and jobs.
CRON_RUNS = Counter(
    "crm_cron_runs_total", "Cron and job runs, by job and outcome", ["job", "outcome"]
)
CRON_DURATION = Histogram(
    "crm_cron_duration_seconds",
    "Duration of a cron or job run",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300),
)

# Rate limits and degraded dependencies.
RATE_LIMIT_REFUSALS = Counter(
    "crm_rate_limit_refusals_total",
    "Requests refused for a rate limit, by the budget that ran out",
    ["scope", "transport"],
)
RATE_LIMITER_DEGRADED = Gauge(
    "crm_rate_limiter_degraded", "1 while the rate limiter cannot reach Redis and fails open"
)
REDIS_ERRORS = Counter(
    "crm_redis_errors_total", "Redis calls that failed or timed out, by the caller", ["caller"]
)
REVOCATION_VIEW_AGE = Gauge(
    "crm_revocation_view_age_seconds", "Age of this process's view of revoked tokens"
)
IDEMPOTENT_REPLAYS = Counter(
    "crm_idempotent_replays_total", "Mutations answered from a stored Idempotency-Key response"
)
