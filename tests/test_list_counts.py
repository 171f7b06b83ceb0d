"""An unfiltered list's totalCount is the count the database keeps (alembic 0021,
app/data/list_counts.py): read from `list_count`, not by counting the tenant's rows; exact
after every kind of write (create, trash, restore, purge, merge, erasure, a bulk insert);
and two transactions creating records in one tenant never wait for each other."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import sqlalchemy as sa

import models
from app.data.records import count_rows
from tests.conftest import Api, Servers, StatementCounter, _asyncpg_dsn
from tests.factories import new_scope
from tests.test_deals import deal, pipeline, stage

COUNTS = "{ companies(first: 1) { totalCount } contacts(first: 1) { totalCount } }"


async def _totals(api: Api) -> tuple[int, int]:
    data = await api.data(COUNTS)
    return data["companies"]["totalCount"], data["contacts"]["totalCount"]


async def _counted(servers: Servers, slug: str) -> tuple[int, int]:
    """The live companies and contacts of the tenant, counted by the owner (no policy)."""
    owner = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    try:
        tenant = await owner.fetchval("SELECT id FROM tenant WHERE slug = $1", slug)
        live = "SELECT count(*) FROM {} WHERE tenant_id = $1 AND deleted_at IS NULL"
        companies = await owner.fetchval(live.format("company"), tenant)
        contacts = await owner.fetchval(live.format("contact"), tenant)
    finally:
        await owner.close()
    return companies, contacts


async def _create(api: Api, name: str, contacts: int = 0) -> str:
    data = await api.data(
        "mutation($n: String!) { createCompany(input: {name: $n}) { id } }", {"n": name}
    )
    company_id: str = data["createCompany"]["id"]
    for n in range(contacts):
        await api.data(
            "mutation($c: ID, $n: String!) { createContact(input: {lastName: $n, companyId: $c})"
            " { id } }",
            {"c": company_id, "n": f"{name} {n}"},
        )
    return company_id


async def test_the_unfiltered_count_reads_the_kept_count(api: Api, sql: StatementCounter) -> None:
    await _create(api, "Gezählt GmbH", contacts=2)
    before = sql.count
    assert await _totals(api) == (1, 2)
    statements = sql.statements[before:]
    counting = [s for s in statements if "count(" in s.lower() or "list_count" in s]
    assert len(counting) == 2 and all("FROM list_count" in s for s in counting), statements
    # a filter counts the rows it matches
    data = await api.data('{ companies(filter: {search: "Gezählt"}) { totalCount } }')
    assert data["companies"]["totalCount"] == 1


async def test_the_count_follows_every_write(api: Api, servers: Servers, tenant: str) -> None:
    async def agree(expected: tuple[int, int]) -> None:
        assert await _totals(api) == expected == await _counted(servers, tenant)

    await agree((0, 0))
    first = await _create(api, "Erste AG", contacts=2)
    second = await _create(api, "Zweite AG", contacts=1)
    third = await _create(api, "Dritte AG")
    await agree((3, 3))
    await api.data("mutation($id: ID!) { deleteCompany(id: $id) }", {"id": third})
    await agree((2, 3))  # in the trash
    await api.data("mutation($id: ID!) { restoreCompany(id: $id) { id } }", {"id": third})
    await agree((3, 3))
    await api.data("mutation($id: ID!) { deleteCompany(id: $id) }", {"id": third})
    await api.data("mutation($id: ID!) { purgeCompany(id: $id) }", {"id": third})
    await agree((2, 3))  # a trashed row leaves the table, not the count
    data = await api.data("query($id: ID!) { company(id: $id) { version } }", {"id": first})
    merge = """mutation($s: ID!, $m: [ID!]!, $v: Int!) {
      mergeCompanies(survivorId: $s, mergedIds: $m, expectedVersion: $v) { mergedIds } }"""
    await api.data(merge, {"s": first, "m": [second], "v": data["company"]["version"]})
    await agree((1, 3))
    contacts = await api.data("{ contacts(first: 10) { edges { node { id } } } }")
    erased = contacts["contacts"]["edges"][0]["node"]["id"]
    await api.data(
        "mutation($id: ID!) { eraseContact(contactId: $id) { erasedAt } }", {"id": erased}
    )
    await agree(await _counted(servers, tenant))
    # an update that is no move into or out of the trash changes nothing
    await api.data(
        'mutation($id: ID!) { updateCompany(id: $id, input: {name: "Neu AG"}) { id } }',
        {"id": first},
    )
    await agree(await _counted(servers, tenant))


async def test_a_statement_of_many_rows_counts_each(sessions: Any) -> None:
    scope = await new_scope(sessions)
    rows = [scope.owned(id=uuid.uuid4(), name=f"C{n}") for n in range(25)]
    trashed = scope.owned(id=uuid.uuid4(), name="T", deleted_at=sa.func.now())
    async with scope.writing() as uow:
        await uow.execute(sa.insert(models.Company).values(rows))
        await uow.execute(sa.insert(models.Company).values([trashed]))
    assert await count_rows(scope, models.Company, []) == 25
    async with scope.writing() as uow:
        doomed = sa.delete(models.Company).where(models.Company.name.in_(["C1", "C2", "C3"]))
        await uow.execute(doomed)
    assert await count_rows(scope, models.Company, []) == 22


async def test_concurrent_creates_in_one_tenant_do_not_wait(sessions: Any) -> None:
    """No hot row: a transaction that created a company and has not committed yet does not
    hold up another one creating a company in the same tenant."""
    scope = await new_scope(sessions)

    async def create(name: str) -> None:
        async with scope.writing() as uow:
            await uow.execute(sa.insert(models.Company).values([scope.owned(name=name)]))

    await create("Erste")  # the tenant's count has a row now, committed
    async with scope.writing() as holding:
        await holding.execute(sa.insert(models.Company).values([scope.owned(name="Offen")]))
        # the first one's change of the count is not committed: a second writer must not wait
        await asyncio.wait_for(create("Zweite"), timeout=5)
        await asyncio.wait_for(create("Dritte"), timeout=5)
    assert await count_rows(scope, models.Company, []) == 4


async def test_a_tenant_with_records_can_be_deleted(
    api: Api, servers: Servers, tenant: str
) -> None:
    """Offboarding deletes the tenant row and lets the cascade take the rest: the counts of the
    deleted companies and contacts have no tenant left to be written for (their statement
    triggers fire after the cascade took list_count's rows)."""
    await _create(api, "Abschied", contacts=2)
    board = await pipeline(api)
    await deal(api, stageId=stage(board, "Angebot"))  # and a board figure
    owner = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    try:
        await owner.execute("DELETE FROM tenant WHERE slug = $1", tenant)
        left = await owner.fetchval("SELECT count(*) FROM tenant WHERE slug = $1", tenant)
    finally:
        await owner.close()
    assert left == 0
