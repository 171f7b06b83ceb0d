"""Row-level security behind the tenant filter (alembic 0005): a tenant's transactions run as
`crm_tenant`, whose policies let them see and write their own rows only, even with SQL that
goes around the application's filter; sessions without a tenant keep the owner's view."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

import models
from app.data import unit_of_work
from app.data.engine import create_engine, create_session_factory
from app.data.tenancy import system_session
from app.data.unit_of_work import TENANT_ROLE
from app.migrations import upgrade_to_head
from app.services.common.tags import has_tag
from app.services.companies import service as companies
from models.roles import SYSTEM_ROLE
from models.search import real_tables
from tests.conftest import Servers, _asyncpg_dsn
from tests.factories import add_row, new_scope, row_value

COMPANY_NAMES = sa.text("SELECT name FROM company ORDER BY name")


async def test_sql_around_the_filter_sees_only_the_tenants_rows(sessions: Any) -> None:
    mine, theirs = await new_scope(sessions), await new_scope(sessions)
    await add_row(mine, models.Company, name="Meins")
    await add_row(theirs, models.Company, name="Deins")
    async with mine.reading() as session:
        assert (await session.execute(COMPANY_NAMES)).scalars().all() == ["Meins"]
        role = await session.execute(sa.text("SELECT current_user"))
        assert role.scalar_one() == TENANT_ROLE
        tenants = await session.execute(sa.text("SELECT id FROM tenant"))
        assert tenants.scalars().all() == [mine.tenant_id]
    async with mine.driver_reading() as (_connection, driver):  # the compiled path's
        assert [row["name"] for row in await driver.fetch(str(COMPANY_NAMES))] == ["Meins"]


async def test_another_tenants_rows_cannot_be_written_around_the_filter(sessions: Any) -> None:
    mine, theirs = await new_scope(sessions), await new_scope(sessions)
    their_id = await add_row(theirs, models.Company, name="Deins")
    rename = sa.text("UPDATE company SET name = 'Gekapert' WHERE id = :id")
    remove = sa.text("DELETE FROM company WHERE id = :id")
    async with mine.writing() as session:
        assert (await session.execute(rename, {"id": their_id})).rowcount == 0
        assert (await session.execute(remove, {"id": their_id})).rowcount == 0
    insert = sa.text("INSERT INTO company (id, tenant_id, name) VALUES (:id, :tenant, 'Kuckuck')")
    with pytest.raises(DBAPIError, match="row-level security"):
        async with mine.writing() as session:
            await session.execute(insert, {"id": uuid.uuid4(), "tenant": theirs.tenant_id})
    assert await row_value(theirs, models.Company.name, their_id) == "Deins"
    async with theirs.reading() as session:
        assert (await session.execute(COMPANY_NAMES)).scalars().all() == ["Deins"]


async def test_sessions_without_a_tenant_keep_the_owners_view(sessions: Any) -> None:
    """The relay, provisioning and the crons' tenant lists read across tenants."""
    mine, theirs = await new_scope(sessions), await new_scope(sessions)
    await add_row(mine, models.Company, name="Meins")
    await add_row(theirs, models.Company, name="Deins")
    async with system_session(sessions) as session:
        assert (await session.execute(sa.text("SELECT current_user"))).scalar_one() != TENANT_ROLE
        tenants = sa.text(
            "SELECT count(DISTINCT tenant_id) FROM company WHERE tenant_id IN (:a, :b)"
        )
        count = await session.execute(tenants, {"a": mine.tenant_id, "b": theirs.tenant_id})
        assert count.scalar_one() == 2


async def test_a_failed_tenant_setting_leaves_no_transaction_in_the_pool(
    sessions: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BEGIN and the setting go as one message: when the setting fails, the BEGIN has run."""
    scope = await new_scope(sessions)
    failing = (
        "SELECT set_config('app.tenant_id', %s, true), set_config('role', 'no_such_role', true)"
    )
    monkeypatch.setattr(unit_of_work, "TENANT_SETTING", failing)
    with pytest.raises(DBAPIError, match="no_such_role"):
        async with scope.reading() as session:
            await session.execute(COMPANY_NAMES)
    with pytest.raises(asyncpg.PostgresError, match="no_such_role"):
        async with scope.driver_reading():
            pass
    monkeypatch.undo()
    engine = sessions.kw["bind"]
    async with engine.connect() as first, engine.connect() as second:  # the whole pool
        for connection in (first, second):
            driver = (await connection.get_raw_connection()).driver_connection
            assert not driver.is_in_transaction()
            assert await driver.fetchval("SELECT current_user") != TENANT_ROLE
    async with scope.reading() as session:
        assert (await session.execute(COMPANY_NAMES)).all() == []


async def test_every_table_of_a_tenant_has_a_policy_the_role_cannot_bypass(sessions: Any) -> None:
    """A table added later with a tenant_id and no policy fails here."""
    tables = sa.text("""
        SELECT c.relname, c.relrowsecurity, p.polname IS NOT NULL AS has_policy
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_policy p ON p.polrelid = c.oid AND p.polname = 'tenant_rows'
        WHERE n.nspname = current_schema() AND c.relkind = 'r' AND (c.relname = 'tenant'
          OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                     AND a.attname = 'tenant_id' AND NOT a.attisdropped))""")
    role = sa.text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :role")
    async with system_session(sessions) as session:
        found = {name: (secured, policy) for name, secured, policy in await session.execute(tables)}
        privileges = (await session.execute(role, {"role": TENANT_ROLE})).one()
    assert set(found) == {
        "tenant",
        *(t.name for t in real_tables(models.metadata) if "tenant_id" in t.c),
    }
    assert all(found.values()), [name for name, checks in found.items() if not all(checks)]
    assert tuple(privileges) == (False, False)


async def test_a_table_owner_that_is_no_superuser_migrates_and_is_held_by_the_policies(
    servers: Servers,
) -> None:
    """The production shape: the owner of the database and its tables is no superuser and
    has no CREATEROLE; a DBA created the roles and granted them beforehand (README, "Database
    roles"); the server logs in as another role, which owns nothing."""
    suffix = uuid.uuid4().hex[:8]
    owner, serving = f"crm_owner_{suffix}", f"crm_serving_{suffix}"
    database = f"crm_owned_{suffix}"
    url = make_url(servers.database_url)
    admin = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
    try:
        password = uuid.uuid4().hex  # for servers that ask for one (the compose file's)
        await admin.execute(f"CREATE ROLE \"{owner}\" LOGIN PASSWORD '{password}'")
        await admin.execute(f"CREATE ROLE \"{serving}\" LOGIN NOINHERIT PASSWORD '{password}'")
        for member in (owner, serving):  # as a DBA would
            await admin.execute(
                f'GRANT {TENANT_ROLE}, {SYSTEM_ROLE} TO "{member}" WITH INHERIT FALSE, SET TRUE'
            )
        await admin.execute(f'CREATE DATABASE "{database}" OWNER "{owner}"')
        owned = url.set(username=owner, password=password, database=database)
        owned_url = owned.render_as_string(hide_password=False)
        serving_url = owned.set(username=serving).render_as_string(hide_password=False)
        await asyncio.to_thread(upgrade_to_head, owned_url, serving_url)
        await _two_tenants_apart(serving_url)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'DROP ROLE IF EXISTS "{owner}"')
        await admin.execute(f'DROP ROLE IF EXISTS "{serving}"')
        await admin.close()


async def _two_tenants_apart(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=2)
    try:
        sessions = create_session_factory(engine)
        mine, theirs = await new_scope(sessions), await new_scope(sessions)
        await add_row(mine, models.Company, name="Meins")
        await add_row(theirs, models.Company, name="Deins")
        async with mine.reading() as session:
            assert (await session.execute(COMPANY_NAMES)).scalars().all() == ["Meins"]
        async with system_session(sessions) as session:
            assert len((await session.execute(COMPANY_NAMES)).all()) == 2
    finally:
        await engine.dispose()


async def test_a_database_that_revokes_execute_from_public_still_takes_tagged_records(
    scratch_database_url: str,
) -> None:
    """Hardened databases revoke EXECUTE on functions from PUBLIC: a tenant's writes (as
    `crm_tenant`) must call no function of ours, which only the owner may run then."""
    await asyncio.to_thread(upgrade_to_head, scratch_database_url)
    admin = await asyncpg.connect(_asyncpg_dsn(scratch_database_url))
    try:
        await admin.execute("REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC")
    finally:
        await admin.close()
    engine = create_engine(scratch_database_url, pool_size=2)
    try:
        scope = await new_scope(create_session_factory(engine))
        created = await companies.create_company(scope, {"name": "Getaggt", "tags": ["ERP"]})
        await companies.update_company(scope, created.id, {"tags": ["erp", "Neu"]})
        tagged = sa.select(col(models.Company.id)).where(
            has_tag(col(models.Company.tag_keys), "ERP")
        )
        async with scope.reading() as session:
            assert (await session.execute(tagged)).scalars().all() == [created.id]
        # the triggers that keep the board's figures and the lists' counts call helpers of ours
        pipeline = await add_row(scope, models.Pipeline, name="P")
        stage = await add_row(scope, models.PipelineStage, pipeline_id=pipeline, name="S")
        await add_row(
            scope, models.Deal, title="D", pipeline_id=pipeline, stage_id=stage, currency="EUR"
        )
        await add_row(scope, models.Contact, last_name="Gezählt")
    finally:
        await engine.dispose()
