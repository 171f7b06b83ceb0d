"""The leakproof forms of the list filters (issue 25) answer exactly what the conditions they
replace did: the tag rows follow every write of tags (create, update, clear, merge, removal)
and only the database writes them; money bounds in cents round as `numeric` compares; the
generated key columns are never a record's value nor in an event's changes; the migration
fills the tag rows of records tagged before it. The plans: tests/test_filter_plans.py."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import models
from app.data.row_values import record_columns
from app.migrations import alembic_config
from app.services.deals import queries as deals
from models import CompanyTag, DealStatus
from models.base import DERIVED
from tests.conftest import Api, _asyncpg_dsn
from tests.factories import add_row, new_scope
from tests.test_merges import create_company, merge

COMPANIES = """query($tag: String) { companies(filter: {tag: $tag}, orderBy: {field: NAME}) {
  totalCount edges { node { name } } } }"""
UPDATE = "mutation($id: ID!, $i: UpdateCompanyInput!) { updateCompany(id: $id, input: $i) { id } }"
DELETE = "mutation($id: ID!) { deleteCompany(id: $id) }"
KEYS = ("status_rank", "company_size_rank", "source_rank", "department_key", "type_rank")


async def tagged(api: Api, tag: str) -> list[str]:
    found = (await api.data(COMPANIES, {"tag": tag}))["companies"]
    names = [edge["node"]["name"] for edge in found["edges"]]
    assert found["totalCount"] == len(names)
    return names


async def test_the_tag_rows_follow_every_write_of_a_records_tags(api: Api) -> None:
    kept = await create_company(api, "Bleibt", tags=["ERP", "Alt"])
    await create_company(api, "Andere", tags=["erp"])
    assert await tagged(api, "erp") == ["Andere", "Bleibt"]
    await api.data(UPDATE, {"id": kept, "i": {"tags": ["Neu"]}})
    assert await tagged(api, "ERP") == ["Andere"]
    assert await tagged(api, "alt") == []
    assert await tagged(api, "neu") == ["Bleibt"]
    await api.data(UPDATE, {"id": kept, "i": {"name": "Bleibt noch"}})  # tags untouched
    assert await tagged(api, "neu") == ["Bleibt noch"]
    await api.data(UPDATE, {"id": kept, "i": {"tags": []}})
    assert await tagged(api, "neu") == []
    merged = await create_company(api, "Geht", tags=["Zusammen"])
    assert "errors" not in await merge(api, kept, [merged])
    assert await tagged(api, "zusammen") == ["Bleibt noch"]  # the survivor's united tags
    await api.data(DELETE, {"id": kept})
    assert await tagged(api, "zusammen") == []  # in the trash: hidden as from every list


async def test_the_tag_rows_of_a_removed_record_go_with_it(
    api: Api, owner_sessions: async_sessionmaker[AsyncSession]
) -> None:
    gone = await create_company(api, "Weg", tags=["Einmal"])
    async with owner_sessions() as session, session.begin():
        await session.execute(sa.text("DELETE FROM company WHERE id = :id"), {"id": gone})
        left = await session.execute(
            sa.text("SELECT count(*) FROM company_tag WHERE company_id = :id"), {"id": gone}
        )
    assert left.scalar_one() == 0


async def test_a_tenant_reads_its_tag_rows_and_cannot_write_them(sessions: Any) -> None:
    scope = await new_scope(sessions)
    company = await add_row(scope, models.Company, name="Eigen", tags=["A"], tag_keys=["a"])
    async with scope.reading() as reads:
        rows = (await reads.execute(sa.select(CompanyTag.tag_key))).scalars().all()
    assert rows == ["a"]
    with pytest.raises(DBAPIError, match="permission denied"):
        async with scope.writing() as uow:
            row = scope.owned(company_id=company, tag_key="erfunden")
            await uow.execute(sa.insert(CompanyTag).values(row))


async def test_money_bounds_compare_in_cents_as_numeric_did(sessions: Any) -> None:
    """`value_cents >= ceil(min * 100)` and `<= floor(max * 100)`: the bounds inclusive, a
    bound between two cents rounds towards the values it admits."""
    scope = await new_scope(sessions)
    pipeline = await add_row(scope, models.Pipeline, name="P")
    stage = await add_row(scope, models.PipelineStage, pipeline_id=pipeline, name="S")
    for value in ("10.00", "10.01", "10.02"):
        await add_row(
            scope,
            models.Deal,
            title=value,
            value=Decimal(value),
            pipeline_id=pipeline,
            stage_id=stage,
            status=DealStatus.OPEN,
        )
    cases = {
        ("10.00", None): 3,
        ("10.005", None): 2,
        ("10.01", None): 2,
        ("10.011", None): 1,
        (None, "10.01"): 2,
        (None, "10.009"): 1,
        (None, "9.999"): 0,
        ("10.01", "10.01"): 1,
        ("10.001", "10.019"): 1,
        ("-1", "100000000000"): 3,
        ("10.00000000000000000000000000001", None): 2,  # beyond the context's 28 digits
        (None, "10.01999999999999999999999999999"): 2,
    }
    for (low, high), expected in cases.items():
        f = deals.DealFilter(
            value_min=None if low is None else Decimal(low),
            value_max=None if high is None else Decimal(high),
        )
        assert await deals.count_deals(scope, f) == expected, (low, high)


def test_the_key_columns_are_no_record_value() -> None:
    for model in (models.Company, models.Contact, models.Deal, models.Activity, models.Contract):
        table = model.__table__  # type: ignore[attr-defined]
        keys = [c for c in table.columns if c.name.endswith(("_rank", "_cents", "_key"))]
        keys = [c for c in keys if c.name != "tag_keys"]
        assert keys, model
        assert all(c.computed is not None and c.info.get(DERIVED) for c in keys), model
        read = {c.key for c in record_columns(model)}
        assert not read & {c.name for c in keys}, model


async def test_an_events_changes_carry_no_key_column(
    api: Api, owner_sessions: async_sessionmaker[AsyncSession]
) -> None:
    company = await create_company(api, "Ereignis", status="ACTIVE")
    await api.data(UPDATE, {"id": company, "i": {"status": "BLOCKED", "companySize": "LARGE"}})
    async with owner_sessions() as session:
        found = await session.execute(
            sa.text(
                "SELECT changes FROM crm_event WHERE type = 'crm.company.updated' "
                "AND entity_id = :id"
            ),
            {"id": company},
        )
        payloads = [row[0] for row in found]
    assert payloads
    text = str(payloads)
    assert "status" in text and "BLOCKED" in text
    assert not any(key in text for key in KEYS)


async def test_the_migration_fills_the_tag_rows_of_tagged_records(
    scratch_database_url: str,
) -> None:
    config = alembic_config(scratch_database_url)
    await asyncio.to_thread(command.upgrade, config, "0018")
    db = await asyncpg.connect(_asyncpg_dsn(scratch_database_url))
    try:
        tenant = await db.fetchval("INSERT INTO tenant (slug, name) VALUES ('f', 'f') RETURNING id")
        insert = (
            "INSERT INTO company (tenant_id, name, tags, tag_keys, status) "
            "VALUES ($1, $2, $3, $4, $5) RETURNING id"
        )
        tagged_id = await db.fetchval(
            insert, tenant, "T", ["ERP", "Vip"], ["erp", "vip"], "BLOCKED"
        )
        await db.fetchval(insert, tenant, "O", [], [], "ACTIVE")
        await asyncio.to_thread(command.upgrade, config, "head")
        rows = await db.fetch("SELECT company_id, tag_key FROM company_tag ORDER BY tag_key")
        ranks = await db.fetch("SELECT name, status_rank FROM company ORDER BY name")
    finally:
        await db.close()
    assert [(r["company_id"], r["tag_key"]) for r in rows] == [
        (tagged_id, "erp"),
        (tagged_id, "vip"),
    ]
    assert [tuple(r) for r in ranks] == [("O", 1), ("T", 3)]


async def test_a_tenants_temporary_table_never_receives_the_tag_rows(
    sessions: Any, owner_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The trigger runs as the tables' owner (security definer): a `company_tag` of the
    tenant's session in pg_temp, searched first when the function's path does not name it,
    would run the tenant's code with the owner's rights. The rows go to the real table."""
    scope = await new_scope(sessions)
    company = uuid.uuid4()
    async with owner_sessions() as session, session.begin():
        await session.execute(sa.text("SET LOCAL ROLE crm_tenant"))
        await session.execute(
            sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(scope.tenant_id)}
        )
        await session.execute(
            sa.text(
                "CREATE TEMP TABLE company_tag (tenant_id uuid, company_id uuid, tag_key text) "
                "ON COMMIT DROP"
            )
        )
        await session.execute(
            sa.text(
                "INSERT INTO company (id, tenant_id, name, tags, tag_keys) "
                "VALUES (:id, :t, 'Schatten', ARRAY['A'], ARRAY['a'])"
            ),
            {"id": company, "t": scope.tenant_id},
        )
        shadowed = await session.execute(sa.text("SELECT count(*) FROM pg_temp.company_tag"))
        assert shadowed.scalar_one() == 0
    async with owner_sessions() as session:
        real = await session.execute(
            sa.text("SELECT tag_key FROM company_tag WHERE company_id = :id"), {"id": company}
        )
        assert real.scalars().all() == ["a"]
