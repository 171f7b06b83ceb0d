"""The data model in PostgreSQL: migrations vs models, on-delete rules, keys, scoping."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import col

import models
from app.db import create_engine, create_session_factory
from app.migrations import alembic_config, upgrade_to_head
from app.services.members import MemberDirectory, MemberIdentity
from app.tenancy import TenantScope, TenantScopeError
from tests.conftest import Servers


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture(scope="module")
async def scratch_database_url(servers: Servers) -> AsyncIterator[str]:
    """A fresh, empty database on the same server, for migration tests."""
    name = f"crm_migrations_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    base, _, query = servers.database_url.partition("?")
    url = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    yield url
    await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    await admin.close()


def _drift(connection: Any) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_server_default": True})
    return list(compare_metadata(context, models.metadata))


def _without_tenant_preserving_set_null(diff: list[Any]) -> list[Any]:
    """Our compile hook emits `ON DELETE SET NULL (col)` for composite tenant keys; reflection
    reports that list while the model says `SET NULL`. Drop exactly those pairs, nothing else."""
    removed = {d[1].name: d[1] for d in diff if d[0] == "remove_fk"}
    added = {d[1].name: d[1] for d in diff if d[0] == "add_fk"}
    same = set()
    for name, reflected in removed.items():
        declared = added.get(name)
        if declared is None or declared.ondelete != "SET NULL":
            continue
        kept = [c.name for c in declared.columns if c.name != "tenant_id"]
        if reflected.ondelete == f"SET NULL ({', '.join(kept)})":
            same.add(name)
    return [d for d in diff if not (d[0] in ("remove_fk", "add_fk") and d[1].name in same)]


async def test_migrations_create_exactly_what_the_models_declare(scratch_database_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, scratch_database_url)
    engine = create_async_engine(scratch_database_url)
    async with engine.connect() as connection:
        diff = await connection.run_sync(_drift)
    await engine.dispose()
    assert _without_tenant_preserving_set_null(diff) == []
    assert len(diff) > 0  # the SET NULL column lists really are in the database


async def test_downgrade_to_base_and_upgrade_again(scratch_database_url: str) -> None:
    config = alembic_config(scratch_database_url)
    await asyncio.to_thread(upgrade_to_head, scratch_database_url)
    await asyncio.to_thread(command.downgrade, config, "base")
    connection = await asyncpg.connect(_asyncpg_dsn(scratch_database_url))
    tables = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")
    enums = await connection.fetch("SELECT typname FROM pg_type WHERE typtype = 'e'")
    await connection.close()
    assert [t["tablename"] for t in tables] == ["alembic_version"]
    assert enums == []
    await asyncio.to_thread(upgrade_to_head, scratch_database_url)


# ---- rows in tenants ------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def sessions(servers: Servers) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(servers.database_url, pool_size=2)
    yield create_session_factory(engine)
    await engine.dispose()


async def _scope(sessions: async_sessionmaker[AsyncSession]) -> TenantScope:
    slug = f"m-{uuid.uuid4().hex[:10]}"
    ids = await MemberDirectory(sessions).resolve(MemberIdentity(slug, "u", "u@x.de", None))
    return TenantScope(ids.tenant_id, ids.user_id, sessions)


async def _add(scope: TenantScope, model: Any, **values: Any) -> uuid.UUID:
    row_id = uuid.uuid4()
    async with scope.writing() as session:
        await session.execute(sa.insert(model).values(scope.owned(id=row_id, **values)))
    return row_id


async def _value(scope: TenantScope, column: Any, row_id: uuid.UUID) -> Any:
    table = column.class_
    async with scope.reading() as session:
        return (await session.execute(sa.select(column).where(table.id == row_id))).scalar_one()


async def _exists(scope: TenantScope, model: Any, row_id: uuid.UUID) -> bool:
    async with scope.reading() as session:
        found = await session.execute(sa.select(col(model.id)).where(col(model.id) == row_id))
        return found.first() is not None


async def _board(scope: TenantScope, name: str = "Vertrieb") -> tuple[uuid.UUID, uuid.UUID]:
    pipeline = await _add(scope, models.Pipeline, name=name)
    stage = await _add(scope, models.PipelineStage, pipeline_id=pipeline, name="Neu", position=0)
    return pipeline, stage


async def _linked_records(scope: TenantScope, **link: uuid.UUID) -> dict[Any, uuid.UUID]:
    """A deal, an activity and a cached voucher pointing at the given company or contact."""
    pipeline, stage = await _board(scope)
    deal = await _add(scope, models.Deal, title="D", pipeline_id=pipeline, stage_id=stage, **link)
    activity = await _add(
        scope, models.Activity, type=models.ActivityType.NOTE, subject="A", **link
    )
    voucher = await _add(
        scope,
        models.LexwareVoucher,
        lexware_voucher_id=uuid.uuid4(),
        voucher_type="invoice",
        voucher_status="open",
        **link,
    )
    return {models.Deal: deal, models.Activity: activity, models.LexwareVoucher: voucher}


async def test_deleting_a_company_unlinks_its_records_and_removes_its_own(sessions: Any) -> None:
    scope = await _scope(sessions)
    company = await _add(scope, models.Company, name="Weg GmbH")
    contact = await _add(scope, models.Contact, last_name="Bleibt", company_id=company)
    linked = await _linked_records(scope, company_id=company)
    email = await _add(scope, models.ContactEmail, company_id=company, email="info@weg.de")
    owner = await _add(scope, models.CompanyOwner, company_id=company, user_id=scope.actor_id)
    contract = await _add(scope, models.Contract, company_id=company, title="Wartung")

    async with scope.writing() as session:
        await session.execute(sa.delete(models.Company).where(col(models.Company.id) == company))

    assert await _value(scope, models.Contact.company_id, contact) is None
    for model, row in linked.items():
        assert await _value(scope, model.company_id, row) is None
        # The tenant stays on the unlinked row (SET NULL names only the reference column).
        assert await _value(scope, model.tenant_id, row) == scope.tenant_id
    for model, row in (
        (models.ContactEmail, email),
        (models.CompanyOwner, owner),
        (models.Contract, contract),
    ):
        assert not await _exists(scope, model, row)


async def test_deleting_a_contact_unlinks_deals_activities_and_vouchers(sessions: Any) -> None:
    scope = await _scope(sessions)
    contact = await _add(scope, models.Contact, last_name="Weg")
    linked = await _linked_records(scope, contact_id=contact)
    async with scope.writing() as session:
        await session.execute(sa.delete(models.Contact).where(col(models.Contact.id) == contact))
    for model, row in linked.items():
        assert await _value(scope, model.contact_id, row) is None


async def test_pipeline_delete_removes_stages_and_deal_delete_removes_voucher_links(
    sessions: Any,
) -> None:
    scope = await _scope(sessions)
    pipeline, stage = await _board(scope)
    deal = await _add(scope, models.Deal, title="D", pipeline_id=pipeline, stage_id=stage)
    voucher = await _add(
        scope,
        models.LexwareVoucher,
        lexware_voucher_id=uuid.uuid4(),
        voucher_type="invoice",
        voucher_status="open",
    )
    link = await _add(
        scope, models.DealVoucher, deal_id=deal, voucher_id=voucher, linked_by_id=scope.actor_id
    )
    async with scope.writing() as session:
        await session.execute(sa.delete(models.Deal).where(col(models.Deal.id) == deal))
    assert not await _exists(scope, models.DealVoucher, link)
    assert await _exists(scope, models.LexwareVoucher, voucher)
    async with scope.writing() as session:
        await session.execute(sa.delete(models.Pipeline).where(col(models.Pipeline.id) == pipeline))
    assert not await _exists(scope, models.PipelineStage, stage)


async def test_deleting_a_lookup_clears_it_on_companies(sessions: Any) -> None:
    scope = await _scope(sessions)
    industry = await _add(scope, models.Industry, name="Maschinenbau", color="#112233")
    account_type = await _add(scope, models.AccountType, name="Kunde")
    company = await _add(
        scope, models.Company, name="X", industry_id=industry, account_type_id=account_type
    )
    async with scope.writing() as session:
        await session.execute(sa.delete(models.Industry))
        await session.execute(sa.delete(models.AccountType))
    assert await _value(scope, models.Company.industry_id, company) is None
    assert await _value(scope, models.Company.account_type_id, company) is None


async def test_a_row_cannot_point_into_another_tenant(sessions: Any) -> None:
    mine, theirs = await _scope(sessions), await _scope(sessions)
    their_company = await _add(theirs, models.Company, name="Fremd GmbH")
    with pytest.raises(IntegrityError, match="fk_contact_company_id_company"):
        await _add(mine, models.Contact, last_name="Spion", company_id=their_company)


async def test_a_deal_stage_must_belong_to_the_deal_pipeline(sessions: Any) -> None:
    scope = await _scope(sessions)
    pipeline, _ = await _board(scope)
    _, other_stage = await _board(scope, "Service")
    with pytest.raises(IntegrityError, match="fk_deal_stage_id_pipeline_stage"):
        await _add(scope, models.Deal, title="D", pipeline_id=pipeline, stage_id=other_stage)


@pytest.mark.parametrize(
    ("model", "first", "second"),
    [
        (models.Industry, {"name": "Handel"}, {"name": "HANDEL"}),
        (models.AccountType, {"name": "Partner"}, {"name": "partner"}),
        (models.RelationshipType, {"name": "Mutter"}, {"name": "mutter"}),
    ],
)
async def test_lookup_names_are_unique_per_tenant_ignoring_case(
    sessions: Any, model: Any, first: dict[str, str], second: dict[str, str]
) -> None:
    scope, other = await _scope(sessions), await _scope(sessions)
    await _add(scope, model, **first)
    await _add(other, model, **second)  # another tenant may use the same name
    with pytest.raises(IntegrityError):
        await _add(scope, model, **second)


async def test_one_primary_email_and_no_duplicate_per_owner(sessions: Any) -> None:
    scope = await _scope(sessions)
    contact = await _add(scope, models.Contact, last_name="Mail")
    await _add(scope, models.ContactEmail, contact_id=contact, email="a@x.de", is_primary=True)
    with pytest.raises(IntegrityError, match="uq_contact_email_contact_id_primary"):
        await _add(scope, models.ContactEmail, contact_id=contact, email="b@x.de", is_primary=True)
    with pytest.raises(IntegrityError, match="uq_contact_email_contact_id_value"):
        await _add(scope, models.ContactEmail, contact_id=contact, email="A@X.DE")


async def test_deal_rules_hold_in_the_database(sessions: Any) -> None:
    scope = await _scope(sessions)
    pipeline, stage = await _board(scope)
    base = {"title": "D", "pipeline_id": pipeline, "stage_id": stage}
    with pytest.raises(IntegrityError, match="ck_deal_lost_reason"):
        await _add(scope, models.Deal, **base, status=models.DealStatus.LOST)
    with pytest.raises(IntegrityError, match="ck_deal_lost_reason_text"):
        await _add(
            scope,
            models.Deal,
            **base,
            status=models.DealStatus.LOST,
            lost_reason=models.LostReason.OTHER,
        )
    with pytest.raises(IntegrityError, match="ck_deal_currency"):
        await _add(scope, models.Deal, **base, currency="eur")
    deal = await _add(
        scope, models.Deal, **base, value=Decimal("1234.50"), expected_close_date=date(2027, 3, 31)
    )
    assert await _value(scope, models.Deal.value, deal) == Decimal("1234.50")


async def test_relationship_pair_is_unique_in_either_direction(sessions: Any) -> None:
    scope = await _scope(sessions)
    a = await _add(scope, models.Company, name="A")
    b = await _add(scope, models.Company, name="B")
    kind = await _add(scope, models.RelationshipType, name="Partner")
    await _add(
        scope,
        models.CompanyRelationship,
        from_company_id=a,
        to_company_id=b,
        relationship_type_id=kind,
    )
    with pytest.raises(IntegrityError, match="uq_company_relationship_pair_type"):
        await _add(
            scope,
            models.CompanyRelationship,
            from_company_id=b,
            to_company_id=a,
            relationship_type_id=kind,
        )
    with pytest.raises(IntegrityError, match="ck_company_relationship_not_self"):
        await _add(
            scope,
            models.CompanyRelationship,
            from_company_id=a,
            to_company_id=a,
            relationship_type_id=kind,
        )


# ---- the scoping helper -------------------------------------------------------------------


async def test_scoped_session_sees_only_its_tenant_even_through_joins(sessions: Any) -> None:
    mine, theirs = await _scope(sessions), await _scope(sessions)
    await _add(mine, models.Company, name="Meins")
    their_company = await _add(theirs, models.Company, name="Deins")
    await _add(theirs, models.CompanyOwner, company_id=their_company, user_id=theirs.actor_id)
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
    mine, theirs = await _scope(sessions), await _scope(sessions)
    theirs_id = await _add(theirs, models.Company, name="Deins")
    async with mine.writing() as session:
        await session.execute(sa.update(models.Company).values(name="Gekapert"))
        await session.execute(sa.delete(models.Company))
    assert await _value(theirs, models.Company.name, theirs_id) == "Deins"


async def test_session_without_tenant_refuses_tenant_tables(sessions: Any) -> None:
    async with sessions() as session:
        with pytest.raises(TenantScopeError):
            await session.execute(sa.select(col(models.Company.id)))


async def test_each_transaction_carries_the_tenant_for_row_level_security(sessions: Any) -> None:
    scope = await _scope(sessions)
    async with scope.reading() as session:
        setting = await session.execute(sa.text("SELECT current_setting('app.tenant_id', true)"))
        assert setting.scalar_one() == str(scope.tenant_id)
    async with sessions() as session:
        unset = await session.execute(sa.text("SELECT current_setting('app.tenant_id', true)"))
        assert unset.scalar_one() in (None, "")


def _leading_columns(item: Any) -> list[str]:
    names = []
    for expression in getattr(item, "expressions", None) or item.columns:
        name = getattr(expression, "name", None)
        if not isinstance(name, str):
            break  # an expression such as lower(name) ends the usable prefix
        names.append(name)
    return names


def test_every_foreign_key_has_an_index_that_starts_with_its_columns() -> None:
    missing = []
    for table in models.metadata.sorted_tables:
        keyed = [
            *table.indexes,
            *(c for c in table.constraints if isinstance(c, sa.UniqueConstraint)),
        ]
        keyed.append(table.primary_key)
        prefixes = [_leading_columns(item) for item in keyed]
        for fk in table.foreign_key_constraints:
            wanted = {c.name for c in fk.columns}
            if not any(set(prefix[: len(wanted)]) == wanted for prefix in prefixes):
                missing.append(f"{table.name}({', '.join(sorted(wanted))})")
    assert missing == []


async def test_core_statements_on_tenant_tables_are_refused(sessions: Any) -> None:
    scope = await _scope(sessions)
    table = models.Company.__table__  # type: ignore[attr-defined]
    async with scope.reading() as session:
        with pytest.raises(TenantScopeError, match="through their models"):
            await session.execute(sa.select(table.c.name))
    async with scope.writing() as session:
        with pytest.raises(TenantScopeError):
            await session.execute(sa.update(table).values(name="x"))


async def test_core_columns_inside_an_orm_statement_are_refused(sessions: Any) -> None:
    scope = await _scope(sessions)
    contact_table = models.Contact.__table__  # type: ignore[attr-defined]
    mixed = sa.select(col(models.Company.id)).where(
        col(models.Company.id).in_(sa.select(contact_table.c.company_id))
    )
    async with scope.reading() as session:
        with pytest.raises(TenantScopeError):
            await session.execute(mixed)
