"""The serving role owns nothing (alembic 0008): the role the server logs in as reads no table
until a transaction switches to `crm_tenant` (one tenant's rows) or `crm_system` (the grants
of the relay, provisioning and the crons); the owner runs the migrations. The suite's app
serves as that role (tests/conftest.py), so every functional test exercises its rights."""

from __future__ import annotations

import asyncio
import logging
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

import models
from app.cli_support import migrate, servers
from app.data.rights import grant_system_table, secure_tenant_table
from app.embedded import SERVING_ROLE
from app.migrations import upgrade_to_head
from app.settings import Settings, SettingsError, load_settings
from models.roles import SYSTEM_ROLE, TENANT_ROLE
from models.search import real_tables
from tests.conftest import Servers, _asyncpg_dsn, server_dir
from tests.factories import add_row, new_scope

# What the server's cross-tenant work does, table by table (app/events/relay.py, the members
# service's upsert, the crons' tenant lists, readiness); crm_system may do nothing else.
SYSTEM_WORK = {
    "tenant": {"SELECT", "INSERT", "UPDATE"},
    "user": {"SELECT", "INSERT", "UPDATE"},
    "crm_event": {"SELECT"},
    "event_counter": {"SELECT"},
    "event_relay": {"SELECT", "INSERT", "UPDATE"},
    "activity": {"SELECT"},
    "company": {"SELECT"},
    "contact": {"SELECT"},
    # the trash's retention: which tenants have expired trash (company, contact, activity too)
    "deal": {"SELECT"},
    "contract": {"SELECT"},
    "lexware_account": {"SELECT"},
    "alembic_version": {"SELECT"},
    "idempotency_key": {"SELECT", "DELETE"},  # the hourly purge of expired keys
    "revoked_token": {"SELECT", "INSERT", "DELETE"},  # each process's view, logout, purge
}
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
TABLES_IN_SCHEMA = """
    SELECT c.relname FROM pg_class c
    WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
    ORDER BY 1"""


def tenant_tables() -> list[str]:
    """Every table of tenants' rows the models declare: a new one cannot be left out."""
    return ["tenant", *(t.name for t in real_tables(models.metadata) if "tenant_id" in t.c)]


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        yield connection
    finally:
        await connection.close()


async def two_tenants_with_rows(sessions: Any) -> None:
    for name in ("Erste GmbH", "Zweite AG"):
        await add_row(await new_scope(sessions), models.Company, name=name)


async def test_the_serving_role_reads_no_table_without_a_switch(
    servers: Servers, sessions: Any
) -> None:
    """Connected as the server is, with no tenant setting and no role switch: every table of
    the schema (tenants' rows or not) is refused, and the role is no owner, superuser or
    bypasser of row-level security."""
    await two_tenants_with_rows(sessions)
    async with connected(servers.serving_url) as serving:
        tables = [row["relname"] for row in await serving.fetch(TABLES_IN_SCHEMA)]
        assert set(tenant_tables()) <= set(tables)
        for table in tables:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await serving.fetch(f'SELECT * FROM "{table}" LIMIT 1')
        role = await serving.fetchrow(
            "SELECT current_user AS name, rolsuper, rolbypassrls, rolinherit FROM pg_roles "
            "WHERE rolname = current_user"
        )
        owned = await serving.fetchval(
            "SELECT count(*) FROM pg_class WHERE relowner = current_user::regrole"
        )
    owner = await _login_role(servers.database_url)
    assert role["name"] != owner
    assert (role["rolsuper"], role["rolbypassrls"], role["rolinherit"], owned) == (
        False,
        False,
        False,
        0,
    )


async def test_the_serving_role_cannot_change_or_drop_tables(servers: Servers) -> None:
    """It owns nothing, and neither do the roles it switches to: no ALTER, no DROP, no
    turning row-level security off."""
    statements = (
        "ALTER TABLE company DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE company NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY tenant_rows ON company",
        "ALTER TABLE company ADD COLUMN stolen text",
        "DROP TABLE company CASCADE",
        "TRUNCATE company",
    )
    async with connected(servers.serving_url) as serving:
        for role in (None, TENANT_ROLE, SYSTEM_ROLE):
            for statement in statements:
                transaction = serving.transaction()
                await transaction.start()
                try:
                    if role is not None:
                        await serving.execute(f"SET LOCAL ROLE {role}")
                    with pytest.raises(asyncpg.InsufficientPrivilegeError):
                        await serving.execute(statement)
                finally:
                    await transaction.rollback()


async def test_as_crm_tenant_the_serving_role_sees_one_tenants_rows(
    servers: Servers, sessions: Any
) -> None:
    mine, theirs = await new_scope(sessions), await new_scope(sessions)
    await add_row(mine, models.Company, name="Meins")
    await add_row(theirs, models.Company, name="Deins")
    async with connected(servers.serving_url) as serving, serving.transaction():
        with pytest.raises(asyncpg.InsufficientPrivilegeError):  # before its switch: nothing
            async with serving.transaction():
                await serving.execute(f"SET LOCAL app.tenant_id = '{mine.tenant_id}'")
                await serving.fetch("SELECT name FROM company")
        await serving.execute(f"SET LOCAL ROLE {TENANT_ROLE}")
        await serving.execute(f"SET LOCAL app.tenant_id = '{mine.tenant_id}'")
        names = [row["name"] for row in await serving.fetch("SELECT name FROM company")]
        tenants = [row["id"] for row in await serving.fetch("SELECT id FROM tenant")]
    assert (names, tenants) == (["Meins"], [mine.tenant_id])
    async with connected(servers.serving_url) as serving:  # a fresh session: never set
        with pytest.raises(asyncpg.UndefinedObjectError, match=r"app\.tenant_id"):
            async with serving.transaction():  # the role without a tenant: refused, not all
                await serving.execute(f"SET LOCAL ROLE {TENANT_ROLE}")
                await serving.fetch("SELECT name FROM company")


async def test_crm_system_has_exactly_the_rights_of_the_cross_tenant_work(
    servers: Servers,
) -> None:
    """Per table, the privileges the relay, provisioning and the crons use, and no other; the
    serving role may switch to both roles and inherits from neither."""
    async with connected(servers.database_url) as owner:
        tables = [row["relname"] for row in await owner.fetch(TABLES_IN_SCHEMA)]
        granted = {
            table: {
                privilege
                for privilege in PRIVILEGES
                if await owner.fetchval(
                    "SELECT has_table_privilege($1, $2, $3)", SYSTEM_ROLE, f'"{table}"', privilege
                )
            }
            for table in tables
        }
        memberships = await owner.fetch(
            "SELECT r.rolname, m.set_option, m.inherit_option FROM pg_auth_members m "
            "JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = $1::regrole",
            await _login_role(servers.serving_url),
        )
        system = await owner.fetchrow(
            "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = $1",
            SYSTEM_ROLE,
        )
    assert {table: rights for table, rights in granted.items() if rights} == SYSTEM_WORK
    assert {(m["rolname"], m["set_option"], m["inherit_option"]) for m in memberships} == {
        (TENANT_ROLE, True, False),
        (SYSTEM_ROLE, True, False),
    }
    assert tuple(system) == (False, False, False)


async def test_crm_system_sees_every_tenant_where_it_may_read(
    servers: Servers, sessions: Any
) -> None:
    await two_tenants_with_rows(sessions)
    async with connected(servers.serving_url) as serving, serving.transaction():
        await serving.execute(f"SET LOCAL ROLE {SYSTEM_ROLE}")
        tenants = await serving.fetchval("SELECT count(DISTINCT tenant_id) FROM company")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await serving.execute("DELETE FROM company")
    assert tenants >= 2


async def _login_role(url: str) -> str:
    async with connected(url) as connection:
        return str(await connection.fetchval("SELECT session_user"))


# ---- the start-up report and the settings ---------------------------------------------------


def test_the_start_up_warns_when_the_server_logs_in_as_the_owner(
    servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    shared = Settings(database_url=servers.database_url, redis_url="redis://x", _env_file=None)
    apart = shared.model_copy(
        update={"database_url": servers.serving_url, "migration_database_url": servers.database_url}
    )
    with caplog.at_level(logging.DEBUG, logger="insight_crm"):
        migrate(shared)
        migrate(apart)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    informed = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(warned) == 1 and "the tables' owner" in warned[0]
    assert "MIGRATION_DATABASE_URL" in warned[0]
    assert any("serving as" in line and "owns nothing" in line for line in informed)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"migration_database_url": "postgresql://owner@db/crm"}, "needs DATABASE_URL"),
        (
            {"database_url": "postgresql://app@db/crm", "migration_database_url": "mysql://x"},
            "MIGRATION_DATABASE_URL must be a postgresql",
        ),
    ],
)
def test_migration_database_url_is_checked(values: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(_env_file=None, **values)


def test_the_owner_migrates_unless_set_apart() -> None:
    one = Settings(database_url="postgresql://app@db/crm", _env_file=None)
    two = one.model_copy(update={"migration_database_url": "postgresql://owner@db/crm"})
    assert one.owner_database_url == "postgresql://app@db/crm"
    assert two.owner_database_url == "postgresql://owner@db/crm"


# ---- the embedded default --------------------------------------------------------------------


async def test_the_embedded_default_serves_as_a_role_that_owns_nothing() -> None:
    """A fresh data dir, set up as `serve` does: the embedded PostgreSQL gets the serving
    login role, the owner (`postgres`) migrates, and the settings serve as the other."""
    directory = server_dir("roles")
    settings = Settings(data_dir=Path(directory), _env_file=None)
    try:
        with servers(settings) as ready:
            await asyncio.to_thread(migrate, ready)
            assert ready.database_url and ready.migration_database_url
            assert await _login_role(ready.database_url) == SERVING_ROLE
            assert await _login_role(ready.migration_database_url) == "postgres"
            async with connected(ready.database_url) as serving:
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await serving.fetch("SELECT * FROM tenant")
                async with serving.transaction():
                    await serving.execute(f"SET LOCAL ROLE {SYSTEM_ROLE}")
                    await serving.execute(
                        "INSERT INTO tenant (slug, name) VALUES ($1, $1)", f"t-{uuid.uuid4().hex}"
                    )
                async with serving.transaction():
                    await serving.execute(f"SET LOCAL ROLE {TENANT_ROLE}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# ---- a new table, as a later migration secures it (app/data/rights.py) -----------------------


async def test_a_new_tenant_table_gets_its_rights_from_one_call(
    servers: Servers, scratch_database_url: str
) -> None:
    """What another migration runs for a table of its own: `crm_tenant` sees one tenant's
    rows, `crm_system` has every tenant's with the privileges named, the serving role none."""
    await asyncio.to_thread(upgrade_to_head, scratch_database_url, servers.serving_url)
    statements: list[str] = ["CREATE TABLE later (id int PRIMARY KEY, tenant_id uuid NOT NULL)"]
    secure_tenant_table(statements.append, "later", system="SELECT, DELETE")
    grant_system_table(statements.append, "later_bookkeeping", "SELECT")
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    async with connected(scratch_database_url) as owner:
        await owner.execute("CREATE TABLE later_bookkeeping (id int PRIMARY KEY)")
        for statement in statements:
            await owner.execute(statement)
        await owner.execute("INSERT INTO later VALUES (1, $1), (2, $2)", mine, theirs)
    serving_url = _in_database(servers.serving_url, scratch_database_url)
    async with connected(serving_url) as serving:
        for table in ("later", "later_bookkeeping"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await serving.fetch(f"SELECT * FROM {table}")
        async with serving.transaction():
            await serving.execute(f"SET LOCAL ROLE {TENANT_ROLE}")
            await serving.execute(f"SET LOCAL app.tenant_id = '{mine}'")
            assert await serving.fetchval("SELECT array_agg(id) FROM later") == [1]
            await serving.execute("INSERT INTO later VALUES (3, $1)", mine)
        async with serving.transaction():
            await serving.execute(f"SET LOCAL ROLE {SYSTEM_ROLE}")
            assert await serving.fetchval("SELECT count(*) FROM later") == 3
            assert await serving.fetchval("SELECT count(*) FROM later_bookkeeping") == 0
            assert await serving.execute("DELETE FROM later WHERE id = 2") == "DELETE 1"
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await serving.execute("UPDATE later SET id = id")


def _in_database(url: str, database_url: str) -> str:
    """`url`'s role, in `database_url`'s database."""
    return str(make_url(url).set(database=make_url(database_url).database).render_as_string(False))


def test_a_serving_role_with_rights_of_its_own_is_warned_about(
    servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    """A serving role a DBA made a member that inherits, and granted a table: the upgrade
    takes the inheritance back (its memberships switch, nothing more) and the start-up warns
    about the grant, which is not the migrations' to revoke."""
    careless = f"crm_careless_{uuid.uuid4().hex[:8]}"
    owner_url = make_url(servers.database_url)

    async def as_dba(*statements: str) -> None:
        async with connected(servers.database_url) as dba:
            for statement in statements:
                await dba.execute(statement)

    asyncio.run(
        as_dba(
            f"CREATE ROLE {careless} LOGIN",  # INHERIT, PostgreSQL's default
            f"GRANT {SYSTEM_ROLE} TO {careless}",  # inherits every tenant's outbox
            f"GRANT SELECT ON company TO {careless}",
        )
    )
    try:
        settings = Settings(
            database_url=owner_url.set(username=careless).render_as_string(False),
            migration_database_url=servers.database_url,
            redis_url="redis://x",
            _env_file=None,
        )
        with caplog.at_level(logging.WARNING, logger="insight_crm"):
            migrate(settings)
        warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warned) == 1, warned
        assert f"the serving role {careless} may use 1 table(s)" in warned[0]
        assert "(company)" in warned[0]
    finally:
        asyncio.run(
            as_dba(f"DROP OWNED BY {careless}", f"DROP ROLE {careless}"),
        )
