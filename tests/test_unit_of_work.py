"""The unit of work (app/data/unit_of_work.py): the one way a tenant's statements reach the
database, and the one place its events are stored; the session's listeners only refuse."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import PendingRollbackError
from sqlmodel import col

import models
from app.data.tenancy import TenantScopeError, system_session
from app.events import outbox
from tests.factories import add_row, new_scope


async def _events_of(sessions: Any, tenant_id: uuid.UUID) -> list[tuple[int, str]]:
    statement = sa.text("SELECT seq, type FROM crm_event WHERE tenant_id = :t ORDER BY seq")
    async with system_session(sessions) as session:
        return [(row.seq, row.type) for row in await session.execute(statement, {"t": tenant_id})]


async def test_a_statement_around_the_scope_is_refused(sessions: Any) -> None:
    """A tenant's session reached directly: its statement would lack the tenant filter."""
    scope = await new_scope(sessions)
    async with scope.session() as session:
        with pytest.raises(TenantScopeError, match="through its Reading or UnitOfWork"):
            await session.execute(sa.select(col(models.Company.id)))


async def test_a_transaction_begun_around_the_scope_is_refused(sessions: Any) -> None:
    """It would run without the tenant setting and the tenant's role (row-level security).
    The refusal sticks: a second try does not find the connection ready and unset."""
    scope = await new_scope(sessions)
    async with scope.session() as session:
        with pytest.raises(TenantScopeError, match="begins through its scope"):
            await session.connection()
        with pytest.raises(PendingRollbackError):  # its connection is gone with the refusal
            connection = await session.connection()
            await connection.execute(sa.text("SELECT current_setting('app.tenant_id', true)"))


async def test_the_scope_mark_on_a_statement_lets_nothing_through(sessions: Any) -> None:
    """Only a call through Reading.execute carries the mark; an option on the statement
    (which anyone may set, and a cached statement keeps) does not."""
    scope = await new_scope(sessions)
    claimed = sa.select(col(models.Company.id)).execution_options(crm_through_scope=True)
    async with scope.session() as session:
        with pytest.raises(TenantScopeError, match="through its Reading or UnitOfWork"):
            await session.execute(claimed)


async def test_a_savepoint_inside_a_unit_of_work_keeps_its_tenant(sessions: Any) -> None:
    scope = await new_scope(sessions)
    async with scope.writing() as uow:
        savepoint = await uow.session.begin_nested()
        await uow.execute_rows(
            sa.insert(models.Company)
            .values(scope.owned(id=uuid.uuid4(), name="Zurückgerollt"))
            .returning(col(models.Company.id))
        )
        await savepoint.rollback()
        await uow.execute_rows(
            sa.insert(models.Company)
            .values(scope.owned(id=uuid.uuid4(), name="Geblieben"))
            .returning(col(models.Company.id))
        )
        tenant = await uow.execute(sa.text("SELECT current_setting('app.tenant_id', true)"))
        assert tenant.scalar_one() == str(scope.tenant_id)
    async with scope.reading() as reads:
        names = await reads.execute_rows(sa.select(col(models.Company.name)))
        assert names.scalars().all() == ["Geblieben"]


async def test_events_are_stored_by_the_commit_and_wake_the_relay(sessions: Any) -> None:
    scope = await new_scope(sessions)
    company = await add_row(scope, models.Company, name="Vorher")
    before = await _events_of(sessions, scope.tenant_id)
    woken: list[bool] = []
    stop = outbox.on_committed(lambda: woken.append(True))
    try:
        async with scope.writing() as uow:
            uow.record("crm.company.updated", "company", company, {"name": ["a", "b"]})
            uow.record("crm.company.tagged", "company", company)
            assert await _events_of(sessions, scope.tenant_id) == before  # not before COMMIT
        assert woken == [True]
        async with scope.writing() as uow:  # nothing recorded: nothing stored, nobody woken
            await uow.execute_rows(sa.select(col(models.Company.id)))
        assert woken == [True]
    finally:
        stop()
    last = before[-1][0] if before else 0
    added = [(last + 1, "crm.company.updated"), (last + 2, "crm.company.tagged")]
    assert await _events_of(sessions, scope.tenant_id) == [*before, *added]


async def test_a_failed_unit_of_work_stores_nothing_it_recorded(sessions: Any) -> None:
    scope = await new_scope(sessions)
    before = await _events_of(sessions, scope.tenant_id)
    with pytest.raises(RuntimeError, match="halfway"):
        async with scope.writing() as uow:
            await uow.execute_rows(
                sa.insert(models.Company)
                .values(scope.owned(id=uuid.uuid4(), name="Nie"))
                .returning(col(models.Company.id))
            )
            uow.record("crm.company.created", "company", uuid.uuid4())
            raise RuntimeError("halfway")
    assert await _events_of(sessions, scope.tenant_id) == before
    async with scope.reading() as reads:
        names = await reads.execute_rows(sa.select(col(models.Company.name)))
        assert "Nie" not in names.scalars().all()
