"""The one settings object, read from the environment (and an optional `.env`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?")


class SettingsError(ValueError):
    """A configuration problem, reported at start with a message that says what to fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", validate_default=True)

    # Servers. Unset means "start an embedded one in data_dir".
    database_url: str | None = None
    redis_url: str | None = None
    # The tables' owner, for migrations only (the server logs in with DATABASE_URL, a role that
    # owns nothing). Unset: DATABASE_URL's user migrates and owns, as before (warned at start).
    migration_database_url: str | None = None
    data_dir: Path = Path(".insight-crm")

    # Database time limits (0 = none). Requests: a statement that runs longer, or waits longer
    # for a lock, is cancelled and answers TIMEOUT. The cron worker, run-job and the relay get
    # their own (larger) limits; migrations get none. Connecting and waiting for a pooled
    # connection are bounded so that an outage answers SERVICE_UNAVAILABLE at once.
    db_statement_timeout_seconds: float = Field(default=5, ge=0, le=3600)
    db_lock_timeout_seconds: float = Field(default=2, ge=0, le=3600)
    db_job_statement_timeout_seconds: float = Field(default=300, ge=0, le=24 * 3600)
    db_job_lock_timeout_seconds: float = Field(default=30, ge=0, le=3600)
    db_connect_timeout_seconds: float = Field(default=1, gt=0, le=60)
    db_pool_timeout_seconds: float = Field(default=1, gt=0, le=60)

    # JWT verification: exactly one key source, or none in embedded mode (development keys).
    jwt_public_key: SecretStr | None = None
    jwt_public_key_file: Path | None = None
    jwt_jwks_file: Path | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    jwt_require_jti: bool = True
    jwt_tenant_claim: str = "tenant"
    jwt_roles_claim: str = "roles"
    jwt_email_claim: str = "email"
    jwt_name_claim: str = "name"
    # A token without `email_verified` counts as verified (binding a user added by e-mail):
    # only for auth services that verify every address and never send the claim.
    jwt_assume_email_verified: bool = False

    # HTTP surface. GraphiQL and introspection: unset means on in the embedded default
    # (people explore there) and off against external servers (production).
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    graphiql: bool | None = None
    introspection: bool | None = None
    # Responses of at least this many bytes are gzipped for clients that accept it (0: never;
    # e.g. behind a proxy that compresses). Small answers gain little and cost CPU.
    gzip_min_bytes: int = Field(default=2048, ge=0, le=10**9)

    # Lexware Office. The environment key serves every tenant that has not set its own
    # (a single-tenant deployment); tenant keys are encrypted with LEXWARE_KEY_SECRET.
    lexware_api_key: SecretStr | None = None
    # The one tenant (slug) the server's key belongs to; unset: every tenant without a key of
    # its own uses it (a single-tenant deployment). Set it when there are several tenants.
    lexware_api_key_tenant: str | None = None
    lexware_base_url: str = "https://api.lexware.io"
    lexware_app_url: str = "https://app.lexware.de"
    lexware_key_secret: SecretStr | None = None
    lexware_timeout_seconds: float = Field(default=15, gt=0, le=120)
    lexware_max_attempts: int = Field(default=4, ge=1, le=10)
    lexware_max_wait_seconds: float = Field(default=10, gt=0, le=600)  # queued for the limit
    # Spacing of requests per key (2 req/s with a margin); lower only against a fake server.
    lexware_request_interval_ms: int = Field(default=550, ge=1, le=10_000)

    # Abuse limits.
    max_query_depth: int = Field(default=10, ge=2, le=50)
    max_aliases: int = Field(default=30, ge=1, le=1000)
    max_tokens: int = Field(default=2000, ge=100, le=100_000)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    max_page_size: int = Field(default=200, ge=1, le=1000)
    default_page_size: int = Field(default=50, ge=1)
    # The most objects an operation's answer may hold (resolvers/query_cost.py); the bench's
    # largest page, 200 companies with their nested lists, costs 2,430,401.
    max_query_cost: int = Field(default=5_000_000, ge=1, le=10**15)  # below COUNT_LIMIT
    document_cache_size: int = Field(default=512, ge=1, le=100_000)
    max_sessions_per_request: int = Field(default=4, ge=1, le=50)
    # Queries the compiler covers skip the per-field executor (resolvers/compiled); "verify"
    # runs both and logs any difference (the test suite runs this way).
    compiled_execution: Literal["on", "off", "verify"] = "on"

    # Live events: WebSocket subscriptions, the relay to Redis, the worker's crons.
    ws_max_subscriptions: int = Field(default=20, ge=1, le=1000)  # per connection
    ws_init_timeout_seconds: float = Field(default=10, gt=0, le=300)
    ws_auth_recheck_seconds: float = Field(default=60, gt=0, le=3600)  # revocation check
    subscription_buffer: int = Field(default=1000, ge=10)  # events queued per subscriber
    event_relay_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    due_soon_window_minutes: int = Field(default=24 * 60, ge=1, le=60 * 24 * 60)
    # How long a deleted record stays in the trash before the hourly cron purges it.
    trash_retention_days: int = Field(default=30, ge=1, le=3650)

    # Redis outages (README "Redis outages"): every Redis call is bounded by these; revoked
    # tokens are read from PostgreSQL into each process's view every REVOCATION_REFRESH_SECONDS
    # (and at once on a Redis notice); a view older than REVOCATION_MAX_STALENESS_SECONDS
    # (PostgreSQL unreachable that long) refuses requests with SERVICE_UNAVAILABLE.
    redis_connect_timeout_seconds: float = Field(default=1, gt=0, le=60)
    redis_socket_timeout_seconds: float = Field(default=1, gt=0, le=60)
    revocation_refresh_seconds: float = Field(default=2, gt=0, le=300)
    revocation_max_staleness_seconds: float = Field(default=30, gt=0, le=3600)

    # A company, contact or deal created without owners gets its creator as OWNER.
    creator_is_owner: bool = True

    # Idempotent retries (Idempotency-Key on mutations, app/services/idempotency): how long a
    # key and its stored response last, and how long a running attempt holds its key before a
    # retry may take over (one that died before committing; one still running then cannot
    # commit). The lease outlasts the slowest mutation: a Lexware call may take 4 attempts of
    # 15 s after 10 s in the rate limit's queue.
    idempotency_key_ttl_seconds: int = Field(default=24 * 3600, ge=60, le=30 * 24 * 3600)
    idempotency_lease_seconds: float = Field(default=120, gt=0, le=3600)

    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    # Log lines (app/telemetry/logs.py): JSON, readable, or auto (readable on a terminal).
    log_format: Literal["auto", "json", "console"] = "auto"

    # Prometheus `/metrics` on a listener of its own (app/telemetry/exposition.py), never on
    # the API port: off unless METRICS_PORT is set; no auth, so it binds loopback by default.
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"

    # Rate limits (app/rate_limiter.py): budgets in cost units per minute, per user and per
    # tenant, kept in Redis for every server process. An operation costs its kind's units
    # (per mutation root field for writes) plus one unit per RATE_LIMIT_OBJECTS_PER_UNIT
    # objects of its query cost. Redis unreachable: each process keeps the same budgets in
    # memory and tries Redis again every RATE_LIMIT_REDIS_RETRY_SECONDS.
    rate_limit_enabled: bool = True
    rate_limit_user: int = Field(default=3000, ge=1, le=10**9)
    rate_limit_tenant: int = Field(default=20000, ge=1, le=10**9)
    rate_limit_query_units: int = Field(default=1, ge=1, le=10**6)
    rate_limit_mutation_units: int = Field(default=10, ge=1, le=10**6)
    rate_limit_lexware_units: int = Field(default=50, ge=1, le=10**6)
    rate_limit_objects_per_unit: int = Field(default=10_000, ge=1, le=10**15)
    rate_limit_redis_timeout_seconds: float = Field(default=1.0, gt=0, le=10)
    rate_limit_redis_retry_seconds: float = Field(default=5.0, gt=0, le=600)

    @model_validator(mode="after")
    def _check_rate_limits(self) -> Settings:
        if self.rate_limit_tenant < self.rate_limit_user:
            raise ValueError("RATE_LIMIT_TENANT must be at least RATE_LIMIT_USER")
        return self

    # Traces (app/telemetry/tracing.py): on when the OTLP/HTTP endpoint is set, else off at no
    # cost. The SDK reads the other standard OTEL_* variables (sampler, headers) itself.
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = Field(default="insight-crm", min_length=1, max_length=200)

    # GDPR (app/services/privacy): the most events one exportPersonalData answer carries; the
    # export says how many there are and where the next part starts (eventsAfter).
    personal_export_max_events: int = Field(default=1000, ge=1, le=10_000)

    # Persisted documents (app/web/persisted_documents.py). Apollo's automatic persisted
    # queries are stored in Redis for APQ_TTL_SECONDS from registration, at most
    # APQ_STORE_MAX_BYTES in all (the oldest go first). Trusted documents: a manifest of
    # graphql-codegen's client preset (persisted-documents.json); `allow` runs its documents by
    # id, `only` runs nothing else (and registers nothing).
    trusted_documents: Literal["off", "allow", "only"] = "off"
    trusted_documents_manifest: Path | None = None
    apq_ttl_seconds: int = Field(default=24 * 3600, ge=60, le=30 * 24 * 3600)
    apq_store_max_bytes: int = Field(default=64_000_000, ge=1024, le=10**11)

    @model_validator(mode="after")
    def _check_persisted_documents(self) -> Settings:
        if self.trusted_documents != "off" and self.trusted_documents_manifest is None:
            raise ValueError(
                f"TRUSTED_DOCUMENTS={self.trusted_documents} needs TRUSTED_DOCUMENTS_MANIFEST "
                "(the client preset's persisted-documents.json)"
            )
        if self.apq_store_max_bytes < self.max_body_bytes:
            raise ValueError("APQ_STORE_MAX_BYTES must be at least MAX_BODY_BYTES")
        return self

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        cleaned = [origin.rstrip("/") for origin in origins]
        for origin in cleaned:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(f"{origin!r} is not an origin such as https://crm.example.de")
        return cleaned

    @field_validator(
        "jwt_issuer",
        "jwt_audience",
        "database_url",
        "migration_database_url",
        "redis_url",
        "trusted_documents_manifest",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("otel_exporter_otlp_endpoint", mode="before")
    @classmethod
    def _check_otlp_endpoint(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, str) and not re.fullmatch(r"https?://\S+", value.strip()):
            raise ValueError("OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL")
        return value.strip() if isinstance(value, str) else value

    @field_validator("trusted_documents", mode="before")
    @classmethod
    def _lower_mode(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url", "migration_database_url")
    @classmethod
    def _check_database_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value and not value.startswith(
            ("postgresql://", "postgresql+asyncpg://", "postgres://")
        ):
            raise ValueError(f"{str(info.field_name).upper()} must be a postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("REDIS_URL must be a redis://, rediss:// or unix:// URL")
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        sources = [self.jwt_public_key, self.jwt_public_key_file, self.jwt_jwks_file]
        if sum(source is not None for source in sources) > 1:
            raise ValueError(
                "set only one of JWT_PUBLIC_KEY, JWT_PUBLIC_KEY_FILE and JWT_JWKS_FILE"
            )
        for path in (self.jwt_public_key_file, self.jwt_jwks_file):
            if path is not None and not path.is_file():
                raise ValueError(f"JWT key file {path} does not exist")
        if self.migration_database_url and not self.database_url:
            raise ValueError(
                "MIGRATION_DATABASE_URL needs DATABASE_URL (the embedded default sets up both)"
            )
        if self.default_page_size > self.max_page_size:
            raise ValueError("DEFAULT_PAGE_SIZE must not exceed MAX_PAGE_SIZE")
        if self.revocation_max_staleness_seconds < self.revocation_refresh_seconds:
            raise ValueError(
                "REVOCATION_MAX_STALENESS_SECONDS must be at least REVOCATION_REFRESH_SECONDS"
            )
        return self

    # Set only in code (never from the environment): both servers were started embedded.
    _embedded_started: bool = PrivateAttr(default=False)

    @property
    def embedded(self) -> bool:
        """The embedded default: no external servers configured (development keys allowed)."""
        return self._embedded_started or (self.database_url is None and self.redis_url is None)

    def with_servers(
        self, database_url: str, redis_url: str, migration_database_url: str | None = None
    ) -> Settings:
        """These settings pointed at running servers, remembering an embedded start."""
        servers = {"database_url": database_url, "redis_url": redis_url}
        if migration_database_url:
            servers["migration_database_url"] = migration_database_url
        ready = self.model_copy(update=servers)
        ready._embedded_started = self.embedded
        return ready

    @property
    def owner_database_url(self) -> str | None:
        """Where migrations run: the tables' owner (DATABASE_URL's user when not set apart)."""
        return self.migration_database_url or self.database_url

    @property
    def graphiql_enabled(self) -> bool:
        return self.embedded if self.graphiql is None else self.graphiql

    @property
    def introspection_enabled(self) -> bool:
        return self.embedded if self.introspection is None else self.introspection

    @property
    def has_configured_key(self) -> bool:
        return any(
            source is not None
            for source in (self.jwt_public_key, self.jwt_public_key_file, self.jwt_jwks_file)
        )

    def require_servers(self) -> tuple[str, str]:
        if self.database_url is None or self.redis_url is None:
            raise SettingsError("DATABASE_URL and REDIS_URL must be set (or use `serve`)")
        return self.database_url, self.redis_url


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's report into one readable start-up error."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = [
            f"  {'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
            for e in error.errors()
        ]
        raise SettingsError("invalid configuration:\n" + "\n".join(lines)) from None
