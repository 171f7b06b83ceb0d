"""The data model in PostgreSQL: migrations vs models, on-delete rules, keys, scoping."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import AutoString, col

import models
from app.data.tenancy import TenantScope
from app.migrations import alembic_config, upgrade_to_head
from models.search import is_view, not_a_view, real_tables
from tests.factories import add_row, new_scope, row_exists, row_value


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _drift(connection: Any) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_server_default": True, "include_object": not_a_view}
    )
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


async def test_the_views_have_exactly_the_columns_their_models_map(
    scratch_database_url: str,
) -> None:
    """The comparison above leaves views out (models.search.not_a_view): each mapped view's
    columns and types are checked here instead."""
    await asyncio.to_thread(upgrade_to_head, scratch_database_url)
    connection = await asyncpg.connect(_asyncpg_dsn(scratch_database_url))
    try:
        views = [t for t in models.metadata.sorted_tables if is_view(t)]
        assert [t.name for t in views] == ["duplicate_key", "search_entry"]
        for view in views:
            rows = await connection.fetch(
                "SELECT column_name, udt_name FROM information_schema.columns "
                "WHERE table_name = $1 ORDER BY ordinal_position",
                view.name,
            )
            found = {row["column_name"]: row["udt_name"] for row in rows}
            declared = {c.name: _udt(c.type) for c in view.columns}
            assert found == declared, view.name
    finally:
        await connection.close()


def _udt(column_type: Any) -> str:
    if isinstance(column_type, sa.Uuid):
        return "uuid"
    if isinstance(column_type, postgresql.TSVECTOR):
        return "tsvector"
    assert isinstance(column_type, AutoString), column_type  # a str field: text
    return "text"


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


async def _board(scope: TenantScope, name: str = "Vertrieb") -> tuple[uuid.UUID, uuid.UUID]:
    pipeline = await add_row(scope, models.Pipeline, name=name)
    stage = await add_row(scope, models.PipelineStage, pipeline_id=pipeline, name="Neu", position=0)
    return pipeline, stage


async def _linked_records(scope: TenantScope, **link: uuid.UUID) -> dict[Any, uuid.UUID]:
    """A deal, an activity and a cached voucher pointing at the given company or contact."""
    pipeline, stage = await _board(scope)
    deal = await add_row(
        scope, models.Deal, title="D", pipeline_id=pipeline, stage_id=stage, **link
    )
    activity = await add_row(
        scope, models.Activity, type=models.ActivityType.NOTE, subject="A", **link
    )
    voucher = await add_row(
        scope,
        models.LexwareVoucher,
        lexware_voucher_id=uuid.uuid4(),
        voucher_type="invoice",
        voucher_status="open",
        **link,
    )
    return {models.Deal: deal, models.Activity: activity, models.LexwareVoucher: voucher}


async def test_deleting_a_company_unlinks_its_records_and_removes_its_own(sessions: Any) -> None:
    scope = await new_scope(sessions)
    company = await add_row(scope, models.Company, name="Weg GmbH")
    contact = await add_row(scope, models.Contact, last_name="Bleibt", company_id=company)
    linked = await _linked_records(scope, company_id=company)
    email = await add_row(scope, models.ContactEmail, company_id=company, email="info@weg.de")
    owner = await add_row(scope, models.CompanyOwner, company_id=company, user_id=scope.actor_id)
    contract = await add_row(scope, models.Contract, company_id=company, title="Wartung")

    async with scope.writing() as session:
        await session.execute(sa.delete(models.Company).where(col(models.Company.id) == company))

    assert await row_value(scope, models.Contact.company_id, contact) is None
    for model, row in linked.items():
        assert await row_value(scope, model.company_id, row) is None
        # The tenant stays on the unlinked row (SET NULL names only the reference column).
        assert await row_value(scope, model.tenant_id, row) == scope.tenant_id
    for model, row in (
        (models.ContactEmail, email),
        (models.CompanyOwner, owner),
        (models.Contract, contract),
    ):
        assert not await row_exists(scope, model, row)


async def test_deleting_a_contact_unlinks_deals_activities_and_vouchers(sessions: Any) -> None:
    scope = await new_scope(sessions)
    contact = await add_row(scope, models.Contact, last_name="Weg")
    linked = await _linked_records(scope, contact_id=contact)
    async with scope.writing() as session:
        await session.execute(sa.delete(models.Contact).where(col(models.Contact.id) == contact))
    for model, row in linked.items():
        assert await row_value(scope, model.contact_id, row) is None


async def test_pipeline_delete_removes_stages_and_deal_delete_removes_voucher_links(
    sessions: Any,
) -> None:
    scope = await new_scope(sessions)
    pipeline, stage = await _board(scope)
    deal = await add_row(scope, models.Deal, title="D", pipeline_id=pipeline, stage_id=stage)
    voucher = await add_row(
        scope,
        models.LexwareVoucher,
        lexware_voucher_id=uuid.uuid4(),
        voucher_type="invoice",
        voucher_status="open",
    )
    link = await add_row(
        scope, models.DealVoucher, deal_id=deal, voucher_id=voucher, linked_by_id=scope.actor_id
    )
    async with scope.writing() as session:
        await session.execute(sa.delete(models.Deal).where(col(models.Deal.id) == deal))
    assert not await row_exists(scope, models.DealVoucher, link)
    assert await row_exists(scope, models.LexwareVoucher, voucher)
    async with scope.writing() as session:
        await session.execute(sa.delete(models.Pipeline).where(col(models.Pipeline.id) == pipeline))
    assert not await row_exists(scope, models.PipelineStage, stage)


async def test_deleting_a_lookup_clears_it_on_companies(sessions: Any) -> None:
    scope = await new_scope(sessions)
    industry = await add_row(scope, models.Industry, name="Maschinenbau", color="#112233")
    account_type = await add_row(scope, models.AccountType, name="Kunde")
    company = await add_row(
        scope, models.Company, name="X", industry_id=industry, account_type_id=account_type
    )
    async with scope.writing() as session:
        await session.execute(sa.delete(models.Industry))
        await session.execute(sa.delete(models.AccountType))
    assert await row_value(scope, models.Company.industry_id, company) is None
    assert await row_value(scope, models.Company.account_type_id, company) is None


async def test_a_row_cannot_point_into_another_tenant(sessions: Any) -> None:
    mine, theirs = await new_scope(sessions), await new_scope(sessions)
    their_company = await add_row(theirs, models.Company, name="Fremd GmbH")
    with pytest.raises(IntegrityError, match="fk_contact_company_id_company"):
        await add_row(mine, models.Contact, last_name="Spion", company_id=their_company)


async def test_a_deal_stage_must_belong_to_the_deal_pipeline(sessions: Any) -> None:
    scope = await new_scope(sessions)
    pipeline, _ = await _board(scope)
    _, other_stage = await _board(scope, "Service")
    with pytest.raises(IntegrityError, match="fk_deal_stage_id_pipeline_stage"):
        await add_row(scope, models.Deal, title="D", pipeline_id=pipeline, stage_id=other_stage)


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
    scope, other = await new_scope(sessions), await new_scope(sessions)
    await add_row(scope, model, **first)
    await add_row(other, model, **second)  # another tenant may use the same name
    with pytest.raises(IntegrityError):
        await add_row(scope, model, **second)


async def test_one_primary_email_and_no_duplicate_per_owner(sessions: Any) -> None:
    scope = await new_scope(sessions)
    contact = await add_row(scope, models.Contact, last_name="Mail")
    await add_row(scope, models.ContactEmail, contact_id=contact, email="a@x.de", is_primary=True)
    with pytest.raises(IntegrityError, match="uq_contact_email_contact_id_primary"):
        await add_row(
            scope, models.ContactEmail, contact_id=contact, email="b@x.de", is_primary=True
        )
    with pytest.raises(IntegrityError, match="uq_contact_email_contact_id_value"):
        await add_row(scope, models.ContactEmail, contact_id=contact, email="A@X.DE")


async def test_deal_rules_hold_in_the_database(sessions: Any) -> None:
    scope = await new_scope(sessions)
    pipeline, stage = await _board(scope)
    base = {"title": "D", "pipeline_id": pipeline, "stage_id": stage}
    with pytest.raises(IntegrityError, match="ck_deal_lost_reason"):
        await add_row(scope, models.Deal, **base, status=models.DealStatus.LOST)
    with pytest.raises(IntegrityError, match="ck_deal_lost_reason_text"):
        await add_row(
            scope,
            models.Deal,
            **base,
            status=models.DealStatus.LOST,
            lost_reason=models.LostReason.OTHER,
        )
    with pytest.raises(IntegrityError, match="ck_deal_currency"):
        await add_row(scope, models.Deal, **base, currency="eur")
    deal = await add_row(
        scope, models.Deal, **base, value=Decimal("1234.50"), expected_close_date=date(2027, 3, 31)
    )
    assert await row_value(scope, models.Deal.value, deal) == Decimal("1234.50")


async def test_relationship_pair_is_unique_in_either_direction(sessions: Any) -> None:
    scope = await new_scope(sessions)
    a = await add_row(scope, models.Company, name="A")
    b = await add_row(scope, models.Company, name="B")
    kind = await add_row(scope, models.RelationshipType, name="Partner")
    await add_row(
        scope,
        models.CompanyRelationship,
        from_company_id=a,
        to_company_id=b,
        relationship_type_id=kind,
    )
    with pytest.raises(IntegrityError, match="uq_company_relationship_pair_type"):
        await add_row(
            scope,
            models.CompanyRelationship,
            from_company_id=b,
            to_company_id=a,
            relationship_type_id=kind,
        )
    with pytest.raises(IntegrityError, match="ck_company_relationship_not_self"):
        await add_row(
            scope,
            models.CompanyRelationship,
            from_company_id=a,
            to_company_id=a,
            relationship_type_id=kind,
        )


def _leading_columns(item: Any) -> list[str]:
    names = []
    for expression in getattr(item, "expressions", None) or item.columns:
        name = getattr(expression, "name", None)
        if not isinstance(name, str):
            break  # an expression such as lower(name) ends the usable prefix
        names.append(name)
    return names


def _partial(index: sa.Index) -> bool:
    return index.dialect_options["postgresql"]["where"] is not None


def _only_not_null(index: sa.Index, columns: set[str]) -> bool:
    """A partial index over the rows where a key's own column is set: every lookup of the
    key (`column = $1`) implies that predicate (the trash's `deleted_by`)."""
    where = str(index.dialect_options["postgresql"]["where"])
    return any(where == f"{column} IS NOT NULL" for column in columns)


def test_every_foreign_key_has_an_index_that_starts_with_its_columns() -> None:
    """Whole indexes only (or one over the rows where the key is set): a partial one answers
    only lookups that imply its predicate, and PostgreSQL scanned all e-mails for a page's
    contacts rather than use a partial unique one."""
    missing = []
    for table in real_tables(models.metadata):
        fk_columns = {c.name for fk in table.foreign_key_constraints for c in fk.columns}
        keyed: list[Any] = [
            *(
                index
                for index in table.indexes
                if not _partial(index) or _only_not_null(index, fk_columns - {"tenant_id"})
            ),
            *(c for c in table.constraints if isinstance(c, sa.UniqueConstraint)),
        ]
        keyed.append(table.primary_key)
        prefixes = [_leading_columns(item) for item in keyed]
        for fk in table.foreign_key_constraints:
            wanted = {c.name for c in fk.columns}
            if not any(set(prefix[: len(wanted)]) == wanted for prefix in prefixes):
                missing.append(f"{table.name}({', '.join(sorted(wanted))})")
    assert missing == []
