"""The one scoping helper: tenant filter on every ORM statement, refusal of Core access,
and the per-transaction tenant setting for row-level security."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col

import models
from app.tenancy import TenantScopeError
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


async def test_core_statements_on_tenant_tables_are_refused(sessions: Any) -> None:
    scope = await new_scope(sessions)
    table = models.Company.__table__  # type: ignore[attr-defined]
    async with scope.reading() as session:
        with pytest.raises(TenantScopeError, match="through their models"):
            await session.execute(sa.select(table.c.name))
    async with scope.writing() as session:
        with pytest.raises(TenantScopeError):
            await session.execute(sa.update(table).values(name="x"))


async def test_core_columns_inside_an_orm_statement_are_refused(sessions: Any) -> None:
    scope = await new_scope(sessions)
    contact_table = models.Contact.__table__  # type: ignore[attr-defined]
    mixed = sa.select(col(models.Company.id)).where(
        col(models.Company.id).in_(sa.select(contact_table.c.company_id))
    )
    async with scope.reading() as session:
        with pytest.raises(TenantScopeError):
            await session.execute(mixed)


async def test_driver_transactions_carry_the_tenant_and_cannot_write(sessions: Any) -> None:
    scope = await new_scope(sessions)
    async with scope.driver_reading() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
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
