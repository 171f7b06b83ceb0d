"""The trash in the tenant filter (app.data.tenant_filter.NOT_TRASHED): a row with
`deleted_at` set is hidden from every statement of a Reading or UnitOfWork, and from the
compiled path, unless the statement asks for trashed rows too (`with_trashed=True`)."""

from __future__ import annotations

import gc
import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

import models
from app.data import tenant_filter
from app.data.tenancy import TenantScope
from tests.factories import add_row, new_scope


async def trash_directly(scope: TenantScope, model: Any, row_id: uuid.UUID) -> None:
    """A row moved to the trash through the data layer (as the services do)."""
    statement = (
        sa.update(model)
        .where(col(model.id) == row_id)
        .values(deleted_at=sa.func.now(), deleted_by=scope.actor_id)
        .execution_options(synchronize_session=False)
    )
    async with scope.writing() as uow:
        await uow.execute_rows(statement)


async def test_a_trashed_row_is_hidden_from_reads_and_writes_unless_asked_for(
    sessions: Any,
) -> None:
    scope = await new_scope(sessions)
    kept = await add_row(scope, models.Company, name="Bleibt")
    trashed = await add_row(scope, models.Company, name="Papierkorb")
    await trash_directly(scope, models.Company, trashed)
    names = sa.select(col(models.Company.name)).order_by(col(models.Company.name))
    async with scope.reading() as reads:
        assert (await reads.execute_rows(names)).scalars().all() == ["Bleibt"]
        assert (await reads.execute(names)).scalars().all() == ["Bleibt"]
        both = (await reads.execute_rows(names, with_trashed=True)).scalars().all()
        assert both == ["Bleibt", "Papierkorb"]
        assert (await reads.execute(names, with_trashed=True)).scalars().all() == both
    rename = (
        sa.update(models.Company)
        .values(name="Geändert")
        .returning(col(models.Company.id))
        .execution_options(synchronize_session=False)
    )
    async with scope.writing() as uow:  # a trashed record is not written by accident
        assert (await uow.execute_rows(rename)).scalars().all() == [kept]


async def test_a_link_to_a_trashed_row_finds_nothing_in_a_join_or_subquery(
    sessions: Any,
) -> None:
    scope = await new_scope(sessions)
    company = await add_row(scope, models.Company, name="Papierkorb")
    contact = await add_row(scope, models.Contact, last_name="Muster", company_id=company)
    await trash_directly(scope, models.Company, company)
    joined = sa.select(col(models.Contact.id), col(models.Company.name)).outerjoin(
        models.Company, col(models.Company.id) == col(models.Contact.company_id)
    )
    linked = sa.select(sa.func.count()).where(
        col(models.Contact.company_id).in_(sa.select(col(models.Company.id)))
    )
    async with scope.reading() as reads:
        assert (await reads.execute_rows(joined)).all() == [(contact, None)]
        assert (await reads.execute_rows(linked)).scalar_one() == 0
        assert (await reads.execute_rows(linked, with_trashed=True)).scalar_one() == 1


def test_each_statement_has_one_twin_per_with_trashed() -> None:
    statement = sa.select(col(models.Company.id))
    hidden = tenant_filter.filtered(statement)
    shown = tenant_filter.filtered(statement, with_trashed=True)
    assert tenant_filter.filtered(statement) is hidden
    assert tenant_filter.filtered(statement, with_trashed=True) is shown
    assert hidden is not shown
    assert "deleted_at IS NULL" in str(hidden) and "deleted_at" not in str(shown)
    del statement
    gc.collect()
    kept = [*tenant_filter._FILTERED.values(), *tenant_filter._FILTERED_WITH_TRASHED.values()]
    assert all(twin is not hidden and twin is not shown for twin in kept)
