"""The one scoping helper: tenant filter on every ORM statement, refusal of Core access,
and the per-transaction tenant setting for row-level security."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col

import models
from app.data import tenancy, tenant_filter
from app.data.tenancy import TenantScope, TenantScopeError
from app.data.unit_of_work import begin_with_tenant_sql
from tests.factories import add_row, new_scope, row_value


async def test_scoped_session_sees_only_its_tenant_even_through_joins(sessions: Any) -> None:
    mine, theirs = await new_scope(sessions), await new_scope(sessions)
    await add_row(mine, models.Company, name="Meins")
    their_company = await add_row(theirs, models.Company, name="Deins")
    await add_row(theirs, models.CompanyOwner, company_id=their_company, user_id=theirs.actor_id)
    async with mine.reading() as session:
        names = (await session.execute(sa.select(col(models.Company.name)))).scalars().all()
        joined = await session.execute(
            sa.select(col(models.CompanyOwner.id)).join(
                models.Company, col(models.Company.id) == col(models.CompanyOwner.company_id)
            )
        )
    assert names == ["Meins"]
    assert joined.all() == []


async def test_scoped_update_and_delete_cannot_touch_another_tenant(sessions: Any) -> None:
    mine, theirs = await new_scope(sessions), await new_scope(sessions)
    theirs_id = await add_row(theirs, models.Company, name="Deins")
    async with mine.writing() as session:
        await session.execute(sa.update(models.Company).values(name="Gekapert"))
        await session.execute(sa.delete(models.Company))
    assert await row_value(theirs, models.Company.name, theirs_id) == "Deins"


async def test_one_statement_object_run_by_two_tenants_reads_and_writes_each_its_own(
    sessions: Any,
) -> None:
    """Statements built once (cached by the services) get the tenant as a parameter on each
    run: no run may keep the tenant of the one before."""
    mine, theirs = await new_scope(sessions), await new_scope(sessions)
    my_id = await add_row(mine, models.Company, name="Meins")
    their_id = await add_row(theirs, models.Company, name="Deins")
    names = sa.select(col(models.Company.name))
    rename = sa.update(models.Company).values(name=sa.bindparam("new_name"))
    for scope, expected in ((mine, ["Meins"]), (theirs, ["Deins"]), (mine, ["Meins"])):
        async with scope.reading() as session:
            assert (await session.execute(names)).scalars().all() == expected
    async with mine.writing() as session:
        await session.execute(rename, {"new_name": "Meins neu"})
    async with theirs.writing() as session:
        await session.execute(rename, {"new_name": "Deins neu"})
    assert await row_value(mine, models.Company.name, my_id) == "Meins neu"
    assert await row_value(theirs, models.Company.name, their_id) == "Deins neu"


def test_a_statement_is_filtered_once_and_its_filtered_twin_goes_with_it() -> None:
    statement = sa.select(col(models.Company.id))
    filtered = tenant_filter.filtered(statement)
    assert tenant_filter.filtered(statement) is filtered
    assert filtered is not statement and statement in tenant_filter._FILTERED
    del statement
    gc.collect()
    assert all(kept is not filtered for kept in tenant_filter._FILTERED.values())


async def test_bulk_update_by_primary_key_is_refused(sessions: Any) -> None:
    """SQLAlchemy's UPDATE with a list of rows by primary key takes no loader criteria."""
    mine, theirs = await new_scope(sessions), await new_scope(sessions)
    their_id = await add_row(theirs, models.Company, name="Deins")
    with pytest.raises(TenantScopeError, match="bulk"):
        async with mine.writing() as session:
            rows = [{"id": their_id, "name": "Gekapert"}]
            await session.execute(sa.update(models.Company), rows)
    assert await row_value(theirs, models.Company.name, their_id) == "Deins"


async def test_session_without_tenant_refuses_tenant_tables(sessions: Any) -> None:
    async with sessions() as session:
        with pytest.raises(TenantScopeError):
            await session.execute(sa.select(col(models.Company.id)))


async def test_each_transaction_carries_the_tenant_for_row_level_security(sessions: Any) -> None:
    scope = await new_scope(sessions)
    async with scope.reading() as session:
        setting = await session.execute(sa.text("SELECT current_setting('app.tenant_id', true)"))
        assert setting.scalar_one() == str(scope.tenant_id)
    async with sessions() as session:
        unset = await session.execute(sa.text("SELECT current_setting('app.tenant_id', true)"))
        assert unset.scalar_one() in (None, "")


@contextmanager
def sent_to_postgres(scope: TenantScope) -> Iterator[tuple[list[str], list[str]]]:
    """What reaches PostgreSQL meanwhile: the driver's own messages (its query logger sees
    those, not prepared statements), and SQLAlchemy's statements."""
    messages: list[str] = []
    statements: list[str] = []
    engine = scope.sessions.kw["bind"].sync_engine

    def log(record: Any) -> None:
        messages.append(record.query)

    def on_checkout(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(log)

    def on_checkin(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.driver_connection.remove_query_logger(log)

    def statement(_c: Any, _cursor: Any, text: str, *_: Any) -> None:
        statements.append(text.split()[0])

    listeners = [(engine.pool, "checkout", on_checkout), (engine.pool, "checkin", on_checkin),
                 (engine, "before_cursor_execute", statement)]  # fmt: skip
    for target, name, listener in listeners:
        sa.event.listen(target, name, listener)
    try:
        yield messages, statements
    finally:
        for target, name, listener in listeners:
            sa.event.remove(target, name, listener)


async def test_a_transaction_begins_with_its_tenant_in_one_round_trip(sessions: Any) -> None:
    scope = await new_scope(sessions)
    with sent_to_postgres(scope) as (messages, statements):
        async with scope.writing() as session:
            await session.execute(sa.update(models.Company).values(name="x"))
        with pytest.raises(RuntimeError):
            async with scope.writing() as session:
                await session.execute(sa.select(col(models.Company.id)))
                raise RuntimeError("rolls back")
    begin = begin_with_tenant_sql(scope.tenant_id)
    assert messages == [begin, "COMMIT", begin, "ROLLBACK"]
    assert statements == ["UPDATE", "SELECT"]  # and no set_config of its own


async def test_connections_that_died_in_the_pool_cost_one_failed_transaction(
    sessions: Any,
) -> None:
    scope = await new_scope(sessions)
    backends = []
    for _ in range(2):  # the pool's two connections
        async with scope.reading() as session:
            backends.append((await session.execute(sa.text("SELECT pg_backend_pid()"))).scalar())
    url = sessions.kw["bind"].url.set(drivername="postgresql")
    admin = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await admin.execute("SELECT pg_terminate_backend(p) FROM unnest($1::int[]) p", backends)
    finally:
        await admin.close()
    with pytest.raises(sa.exc.DBAPIError):
        async with scope.reading() as session:
            await session.execute(sa.select(col(models.Company.id)))
    for _ in range(3):  # the pool dropped them and connects anew
        async with scope.reading() as session:
            await session.execute(sa.select(col(models.Company.id)))


async def test_core_statements_on_tenant_tables_are_refused(sessions: Any) -> None:
    scope = await new_scope(sessions)
    table = models.Company.__table__  # type: ignore[attr-defined]
    async with scope.reading() as session:
        with pytest.raises(TenantScopeError, match="through their models"):
            await session.execute(sa.select(table.c.name))
    async with scope.writing() as session:
        with pytest.raises(TenantScopeError):
            await session.execute(sa.update(table).values(name="x"))
    loaded_past_the_filter = [
        sa.select(models.Company).from_statement(sa.select(table)),
        sa.select(models.Company).from_statement(sa.text("SELECT * FROM company")),
    ]
    async with scope.reading() as session:
        for statement in loaded_past_the_filter:
            with pytest.raises(TenantScopeError, match="from_statement"):
                await session.execute(statement)


async def test_a_model_aliased_over_a_core_select_of_a_tenant_table_is_refused(
    sessions: Any,
) -> None:
    """Nested pages read a model aliased over an ORM statement (app/data/child_pages), which
    gets the filters itself; aliased over a Core select, the inner rows would be unfiltered."""
    scope = await new_scope(sessions)
    table = models.Company.__table__  # type: ignore[attr-defined]
    unfiltered = aliased(models.Company, sa.select(table).subquery())
    counted = sa.select(sa.func.count()).select_from(unfiltered)
    async with scope.reading() as session:
        with pytest.raises(TenantScopeError, match="through their models"):
            await session.execute(counted)


async def test_core_columns_that_carry_other_annotations_are_refused(sessions: Any) -> None:
    """Only the ORM's `parententity` marks a column the filter reaches; any other annotation
    (SQLAlchemy adds some of its own) leaves it a Core column."""
    scope = await new_scope(sessions)
    name = models.Company.__table__.c.name._annotate({"note": "not an entity"})  # type: ignore[attr-defined]
    mixed = sa.select(col(models.Company.id)).where(name == "x")
    async with scope.reading() as session:
        with pytest.raises(TenantScopeError, match="through their models"):
            await session.execute(mixed)


async def test_core_columns_inside_an_orm_statement_are_refused(sessions: Any) -> None:
    scope = await new_scope(sessions)
    contact_table = models.Contact.__table__  # type: ignore[attr-defined]
    mixed = sa.select(col(models.Company.id)).where(
        col(models.Company.id).in_(sa.select(contact_table.c.company_id))
    )
    async with scope.reading() as session:
        with pytest.raises(TenantScopeError):
            await session.execute(mixed)


async def test_the_core_twin_of_an_orm_statement_that_passed_is_still_refused(
    sessions: Any,
) -> None:
    """The guard remembers statement shapes it has passed (by SQLAlchemy cache key); a Core
    column of the same table and name must not share the shape of an ORM attribute."""
    scope = await new_scope(sessions)
    table = models.Company.__table__  # type: ignore[attr-defined]
    orm = sa.select(col(models.Company.id)).where(col(models.Company.name) == "x")
    twin = sa.select(col(models.Company.id)).where(table.c.name == "x")
    async with scope.reading() as session:
        await session.execute(orm)
        await session.execute(orm)
        with pytest.raises(TenantScopeError):
            await session.execute(twin)
    async with scope.writing() as session:
        await session.execute(sa.update(models.Company).values(name="y"))
        with pytest.raises(TenantScopeError):
            await session.execute(sa.update(table).values(name="y"))


async def test_the_guard_walks_each_statement_shape_once_and_remembers_a_bounded_number(
    sessions: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    walked: list[Any] = []
    walk = tenant_filter.walk_for_core_access

    def counting_walk(statement: Any, *, has_mappers: bool) -> None:
        walked.append(statement)
        walk(statement, has_mappers=has_mappers)

    monkeypatch.setattr(tenancy, "walk_for_core_access", counting_walk)
    monkeypatch.setattr(tenancy, "SCOPED_SHAPES", tenant_filter.ShapeVerdicts(limit=2))
    scope = await new_scope(sessions)
    by_name = [sa.select(col(models.Company.id)).where(col(models.Company.name) == n) for n in "ab"]
    async with scope.reading() as session:
        for statement in by_name:  # one shape, two values
            await session.execute(statement)
        assert len(walked) == 1
        for column in (models.Company.website, models.Company.vat_id, models.Company.status):
            await session.execute(sa.select(col(models.Company.id)).where(col(column).is_(None)))
    assert len(walked) == 4
    assert len(tenancy.SCOPED_SHAPES) == 2


async def test_driver_transactions_carry_the_tenant_and_cannot_write(sessions: Any) -> None:
    scope = await new_scope(sessions)
    async with scope.driver_reading() as (_connection, driver):
        assert await driver.fetchval("SELECT current_setting('app.tenant_id')") == str(
            scope.tenant_id
        )
        with pytest.raises(Exception, match="read-only transaction"):
            await driver.execute("DELETE FROM company")
    # The connection went back to the pool clean: no open transaction, no tenant left over.
    async with sessions() as session:
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        assert not driver.is_in_transaction() or await driver.fetchval(
            "SELECT coalesce(current_setting('app.tenant_id', true), '')"
        ) in ("", None)


async def test_rows_run_on_the_connection_are_scoped_to_the_sessions_tenant(
    sessions: Any,
) -> None:
    mine, theirs = await new_scope(sessions), await new_scope(sessions)
    my_id = await add_row(mine, models.Company, name="Meins")
    their_id = await add_row(theirs, models.Company, name="Deins")
    name, company_id = col(models.Company.name), col(models.Company.id)
    async with mine.writing() as session:
        names = await session.execute_rows(sa.select(name))
        assert names.scalars().all() == ["Meins"]
        renamed = await session.execute_rows(
            sa.update(models.Company).values(name="Neu").returning(company_id)
        )
        assert renamed.scalars().all() == [my_id]
        deleted = await session.execute_rows(sa.delete(models.Company).returning(company_id))
        assert deleted.scalars().all() == [my_id]
    assert await row_value(theirs, models.Company.name, their_id) == "Deins"


async def test_rows_run_on_the_connection_skip_the_orm_execution_layer(sessions: Any) -> None:
    """The point of `execute_rows`: the ORM's per-execution work (its listeners are the sign
    of it) is skipped, while the same statement through the session goes through it."""
    scope = await new_scope(sessions)
    orm_executions: list[Any] = []
    listener = orm_executions.append
    sa.event.listen(tenancy.CrmSession, "do_orm_execute", listener)
    try:
        rename = sa.update(models.Company).values(name="x").returning(col(models.Company.id))
        async with scope.writing() as session:
            await session.execute_rows(rename)
            assert orm_executions == []
            await session.execute(rename)
            assert len(orm_executions) == 1
    finally:
        sa.event.remove(tenancy.CrmSession, "do_orm_execute", listener)


async def test_a_core_table_named_as_a_source_next_to_orm_columns_is_refused(
    sessions: Any,
) -> None:
    """The statement's columns are the model's, so it looks like an ORM statement; the
    table it joins or updates is not, and would be read or written unfiltered."""
    scope = await new_scope(sessions)
    deal_table: Any = models.Deal.__table__  # type: ignore[attr-defined]
    company_table: Any = models.Company.__table__  # type: ignore[attr-defined]
    joined = sa.select(col(models.Company.id)).join(
        deal_table, col(models.Deal.company_id) == col(models.Company.id)
    )
    renamed = sa.update(company_table).where(col(models.Company.id).is_not(None))
    async with scope.writing() as session:
        for statement in (joined, renamed.values(name="Gekapert")):
            with pytest.raises(TenantScopeError, match="through their models"):
                await session.execute(statement)


async def test_rows_run_on_the_connection_refuse_core_tables_and_entities(sessions: Any) -> None:
    scope = await new_scope(sessions)
    table: Any = models.Company.__table__  # type: ignore[attr-defined]
    async with scope.reading() as session:
        with pytest.raises(TenantScopeError, match="through their models"):
            await session.execute_rows(sa.select(table.c.name))
        with pytest.raises(TenantScopeError, match="through their models"):
            await session.execute_rows(sa.select(col(models.Company.id), table.c.name))
        with pytest.raises(TenantScopeError, match="not entities"):
            await session.execute_rows(sa.select(models.Company))
        unfiltered_text = sa.select(col(models.Company.id)).from_statement(
            sa.text("SELECT id FROM company")
        )
        with pytest.raises(TenantScopeError, match="from_statement"):
            await session.execute_rows(unfiltered_text)
        # A Core table whose statement is ORM only through a column elsewhere:
        any_company = col(models.Company.id).is_not(None)
        counted = sa.select(sa.func.count()).select_from(table).where(any_company)
        renamed = sa.update(table).where(any_company).values(name="Gekapert")
        deal_table: Any = models.Deal.__table__  # type: ignore[attr-defined]
        joined = sa.select(col(models.Company.id)).join(
            deal_table, col(models.Deal.company_id) == col(models.Company.id)
        )
        for statement in (counted, renamed, joined):
            with pytest.raises(TenantScopeError, match="through their models"):
                await session.execute_rows(statement)


async def test_an_insert_reads_only_the_tenants_rows(sessions: Any) -> None:
    """INSERT ... SELECT: the rows it copies are the tenant's own (another tenant's copied
    with their tenant_id would be a write into that tenant). The session's path cannot give
    such an INSERT the tenant parameter, so it refuses it."""
    mine, theirs = await new_scope(sessions), await new_scope(sessions)
    await add_row(mine, models.Company, name="Meins")
    await add_row(theirs, models.Company, name="Deins")
    company = models.Company
    copies = sa.select(
        col(company.tenant_id), sa.func.gen_random_uuid(), col(company.name) + " (Kopie)"
    ).where(col(company.name).not_like("%Kopie%"))
    copy = sa.insert(company).from_select(["tenant_id", "id", "name"], copies)
    async with mine.writing() as session:
        await session.execute_rows(copy.returning(col(company.name)))
        with pytest.raises(TenantScopeError, match="runs through execute_rows"):
            await session.execute(copy)
    for scope, expected in (
        (mine, ["Meins", "Meins (Kopie)"]),
        (theirs, ["Deins"]),
    ):
        async with scope.reading() as session:
            names = await session.execute_rows(sa.select(col(company.name)).order_by("name"))
            assert names.scalars().all() == expected
