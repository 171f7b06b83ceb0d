"""The company feed (`activities(filter: {companyId, includeContacts: true})`) reads the
feed's activities by index under row-level security, never the tenant's (issue 25, item 3):
EXPLAIN of its page (every order, both directions, the first page and pages beyond a cursor
either way), its count, and the nested `company.activities`, as `crm_tenant` in the compiled
path's own read transaction, with the tenant filter the statements get.

Each branch of the feed must be an index scan whose Index Cond holds the company: the
company's activities by `company_id`, its contacts by `company_id` and their activities by
`contact_id`; the page's own rows are read by id; no scan of `activity` is bounded by the
tenant alone (the walk through all its activities that main's `company_id = X OR contact_id
IN (...)` made: that OR is no index condition, a subquery is never leakproof)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
import pytest
import sqlalchemy as sa

import models
from app.data.child_pages import ChildPages
from app.data.pagination import PageQuery, PageRequest, read_page
from app.data.tenancy import TenantScope
from app.data.tenant_filter import READ_FILTERS, TENANT_PARAMETER
from app.internals import positional_values
from app.services.activities import queries as activities
from app.services.activities.rules import ACTIVITY
from resolvers.compiled.sql import DIALECT
from tests.conftest import Servers, _asyncpg_dsn
from tests.factories import new_scope

COMPANIES, CONTACTS, PER_CONTACT = 200, 3, 2


@dataclass(frozen=True)
class Feed:
    scope: TenantScope
    company_id: uuid.UUID


async def _insert(scope: TenantScope, model: Any, rows: list[dict[str, Any]]) -> None:
    async with scope.writing() as uow:
        await uow.execute(sa.insert(model).values([scope.owned(**row) for row in rows]))


def _activity(
    subject: str, company_id: uuid.UUID | None, contact_id: uuid.UUID | None, n: int
) -> dict[str, Any]:
    due = datetime(2026, 1, 1 + n, tzinfo=UTC) if n % 2 else None  # with and without
    return {
        "type": models.ActivityType.CALL,
        "subject": subject,
        "company_id": company_id,
        "contact_id": contact_id,
        "due_at": due,
    }


@pytest.fixture(scope="module")
async def feed(sessions: Any, servers: Servers) -> AsyncIterator[Feed]:
    """A tenant of 200 companies, each with 3 contacts and activities on the company, on a
    contact, on both, with and without a due date; the tables analyzed (and once more
    after the module, without them)."""
    scope = await new_scope(sessions)
    companies: list[dict[str, Any]] = [
        {"id": uuid.uuid4(), "name": f"C{n}"} for n in range(COMPANIES)
    ]
    contacts: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for company in companies:
        for n in range(CONTACTS):
            contact: dict[str, Any] = {
                "id": uuid.uuid4(),
                "last_name": f"K{n}",
                "company_id": company["id"],
            }
            contacts.append(contact)
            for m in range(PER_CONTACT):
                rows.append(
                    _activity(f"A{n}{m}", company["id"] if m % 2 else None, contact["id"], n + m)
                )  # on the contact and the company, or on the contact only
        rows.append(_activity("F", company["id"], None, 0))
    await _insert(scope, models.Company, companies)
    await _insert(scope, models.Contact, contacts)
    await _insert(scope, models.Activity, rows)
    await _analyze(servers)
    yield Feed(scope, companies[0]["id"])
    # Removed and analyzed again: the statistics other tests' plans are made with stay as
    # they were (the database is shared; tests/test_duplicates.py does the same).
    await _analyze(servers, scope.tenant_id)


async def _analyze(servers: Servers, removed: uuid.UUID | None = None) -> None:
    owner = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    try:
        if removed is not None:
            for table in ("activity", "contact", "company"):
                await owner.execute(f"DELETE FROM {table} WHERE tenant_id = $1", removed)
        await owner.execute("ANALYZE activity, contact, company")
    finally:
        await owner.close()


def _feed_filter(feed: Feed) -> activities.ActivityFilter:
    return activities.ActivityFilter(company_id=feed.company_id, include_contacts=True)


def _page(feed: Feed, order: activities.ActivityOrderField, request: PageRequest) -> Any:
    query = activities.ActivityQuery(request, _feed_filter(feed), order)
    return activities.activities_page(query)


async def _plan(scope: TenantScope, statement: sa.Select[Any], bounds: dict[str, Any]) -> Any:
    compiled = statement.options(*READ_FILTERS).compile(dialect=DIALECT)
    values = {**bounds, TENANT_PARAMETER: scope.tenant_id}
    sql, parameters = positional_values(compiled, compiled.construct_params(params=values))
    async with scope.driver_reading() as reading:
        assert await reading.driver.fetchval("SELECT current_user") == "crm_tenant"
        # What is asserted is that each branch *can* be read by its index under row-level
        # security (a condition that is not leakproof could not). Whether the planner prefers
        # that to hashing or merging depends on the statistics of the whole database, which
        # other tests' tenants change: with those off it shows the index it can use. (At
        # 100,000 companies the planner picks this plan by itself: docs/ARCHITECTURE.md.)
        for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin"):
            await reading.driver.execute(f"SET LOCAL {setting} = off")
        found = await reading.driver.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *parameters)
    explained = orjson.loads(found) if isinstance(found, str | bytes) else found
    return explained[0]["Plan"]


@dataclass(frozen=True)
class Scan:
    table: str
    node: str
    index: str | None
    condition: str  # Index Cond ("" for none)


def _scans(node: dict[str, Any], heap: str | None = None) -> Iterator[Scan]:
    """Every scan of a table in the plan; a bitmap index scan with its heap scan's table."""
    kind, table = node["Node Type"], node.get("Relation Name", heap)
    if kind == "Bitmap Index Scan" or ("Scan" in kind and kind != "Bitmap Heap Scan" and table):
        yield Scan(str(table), kind, node.get("Index Name"), node.get("Index Cond", ""))
    bitmaps = kind in ("Bitmap Heap Scan", "BitmapAnd", "BitmapOr")
    for child in node.get("Plans", []):
        yield from _scans(child, table if bitmaps else None)


def _assert_feed_by_index(plan: dict[str, Any]) -> None:
    scans = list(_scans(plan))
    text = orjson.dumps(plan, option=orjson.OPT_INDENT_2).decode()
    assert all(s.index is not None for s in scans), text  # no sequential scan anywhere
    read = [s for s in scans if s.table == "activity"]
    # No read of the tenant's activities: each names the company, a contact or the ids.
    for scan in read:
        named = ("company_id = ", "contact_id = ", "id = ANY")
        assert any(part in scan.condition for part in named), (scan, text)
    by = {(s.table, s.index): s.condition for s in scans}
    company_branch = by.get(("activity", "ix_activity_tenant_id_company_id"), "")
    assert "company_id = " in company_branch, text
    contacts = by.get(("contact", "ix_contact_tenant_id_company_id"), "")
    assert "company_id = " in contacts, text
    contact_branch = by.get(("activity", "ix_activity_tenant_id_contact_id"), "")
    # a nullable key's page reads its values and its NULLs apart: the second alias is contact_1
    assert re.search(r"contact_id = contact(_\d+)?\.id", contact_branch), text


def _cursors(page: Any) -> tuple[str, str]:
    return page.cursors[0], page.cursors[-1]


ORDERS = [(order, down) for order in activities.ActivityOrderField for down in (False, True)]


@pytest.mark.parametrize(("order", "descending"), ORDERS, ids=lambda v: str(v))
async def test_feed_pages_read_both_branches_by_index(
    feed: Feed, order: activities.ActivityOrderField, descending: bool
) -> None:
    scope = feed.scope
    whole = await read_page(scope, _page(feed, order, PageRequest(50, descending=descending)))
    assert len(whole.rows) == CONTACTS * PER_CONTACT + 1  # the feed: each activity once
    first, last = _cursors(whole)
    requests = [
        PageRequest(2, descending=descending),
        PageRequest(2, after=first, descending=descending),  # a deep page: after a cursor
        PageRequest(2, before=last, descending=descending, backward=True),
    ]
    for request in requests:
        query: PageQuery[Any] = _page(feed, order, request)
        plan = await _plan(scope, query.statement(ACTIVITY.columns), query.bounds())
        _assert_feed_by_index(plan)


async def test_feed_count_reads_both_branches_by_index(feed: Feed) -> None:
    conditions = activities._filtered(_feed_filter(feed), None)
    counting = sa.select(sa.func.count()).select_from(models.Activity).where(*conditions)
    _assert_feed_by_index(await _plan(feed.scope, counting, {}))
    assert await activities.count_activities(feed.scope, _feed_filter(feed)) == 7


async def test_nested_company_activities_read_by_company(feed: Feed) -> None:
    """`company.activities` is the company's own activities (not its contacts'): one index
    read per parent, on `company_id`."""
    key = activities.activity_sort_key(activities.ActivityOrderField.CREATED_AT)
    pages = ChildPages(ACTIVITY, "company_id", key, PageRequest(20, descending=True))
    statement = pages.statement(
        ACTIVITY.columns, pages.bounds(), counted=True, parent_ids=[feed.company_id]
    )
    plan = await _plan(feed.scope, statement, {})
    read = [s for s in _scans(plan) if s.table == "activity"]
    assert read, plan
    assert all("company_id = " in s.condition for s in read), plan
