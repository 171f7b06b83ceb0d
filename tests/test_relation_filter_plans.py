"""Relation-path filters use indexes under row-level security: EXPLAIN of representative
filters as `crm_tenant` (the role of every tenant transaction, where only leakproof conditions
can be index conditions), in the compiled path's own read transaction
(`TenantScope.driver_reading`), with the tenant filter the page statement gets.

One tenant holds a few thousand related rows (analyzed), so that the semi-joins' correlation
is worth an index: each related table must be reached by an index scan whose Index Cond holds
the uuid the subquery correlates on (`deal.company_id = company.id`), next to the tenant.
Sequential scans are off: what no index could serve would still show as a Seq Scan."""

from __future__ import annotations

import re
import uuid
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa

import models
from app.data.pagination import PageQuery, PageRequest
from app.data.tenancy import TenantScope
from app.data.tenant_filter import READ_FILTERS, TENANT_PARAMETER
from app.internals import positional_values
from app.services.activities import queries as activities
from app.services.common.relation_filters import Quantified
from app.services.companies import queries as companies
from app.services.contacts import queries as contacts
from app.services.contracts import queries as contracts
from app.services.deals import queries as deals
from app.services.owners.queries import OwnerFilter
from models import DealStatus
from resolvers.compiled.sql import DIALECT
from tests.conftest import Servers, _asyncpg_dsn
from tests.factories import new_scope

ME = uuid.uuid4()  # a caller: the plans do not depend on whom it owns
WON = deals.DealFilter(statuses=(DealStatus.WON,))
PAGE = PageRequest(first=20)

# The page query, the related tables it reads, and the correlations an index condition
# holds (in either direction: the planner may start from the related rows, the owners of
# the caller say, and reach the record by its id).
CASES: dict[str, tuple[PageQuery[Any], set[str], list[tuple[str, str]]]] = {
    "companies with a won deal": (
        companies.companies_page(
            companies.CompanyQuery(PAGE, companies.CompanyFilter(deals=Quantified(some=WON)))
        ),
        {"deal"},
        [("deal.company_id", "company.id")],
    ),
    "companies owned by me, without contracts": (
        companies.companies_page(
            companies.CompanyQuery(
                PAGE,
                companies.CompanyFilter(
                    owned_by_me=True, contracts=Quantified(none=contracts.ContractFilter())
                ),
                caller=ME,
            )
        ),
        {"company_owner", "contract"},
        [("company_owner.company_id", "company.id"), ("contract.company_id", "company.id")],
    ),
    "contacts whose company has a won deal owned by me": (
        contacts.contacts_page(
            contacts.ContactQuery(
                PAGE,
                contacts.ContactFilter(
                    company=companies.CompanyFilter(
                        deals=Quantified(
                            some=deals.DealFilter(statuses=(DealStatus.WON,), owned_by_me=True)
                        )
                    )
                ),
                caller=ME,
            )
        ),
        {"company", "deal", "deal_owner"},
        [("deal.company_id", "company.id"), ("deal_owner.deal_id", "deal.id")],
    ),
    "deals with an owner, every activity mine": (
        deals.deals_page(
            deals.DealQuery(
                PAGE,
                deals.DealFilter(
                    owners=Quantified(some=OwnerFilter(user_id=ME)),
                    activities=Quantified(every=activities.ActivityFilter(assigned_to_me=True)),
                ),
                caller=ME,
            )
        ),
        {"deal_owner", "activity"},
        [("deal_owner.deal_id", "deal.id"), ("activity.deal_id", "deal.id")],
    ),
    "activities of a won deal or of a contact of mine": (
        activities.activities_page(
            activities.ActivityQuery(
                PAGE,
                activities.ActivityFilter(
                    or_=(
                        activities.ActivityFilter(deal=WON),
                        activities.ActivityFilter(contact=contacts.ContactFilter(owned_by_me=True)),
                    )
                ),
                caller=ME,
            )
        ),
        {"deal", "contact", "contact_owner"},
        [("contact_owner.contact_id", "contact.id")],
    ),
    "contracts of a company with contacts": (
        contracts.contracts_page(
            contracts.ContractQuery(
                PAGE,
                contracts.ContractFilter(
                    company=companies.CompanyFilter(
                        contacts=Quantified(some=contacts.ContactFilter())
                    )
                ),
            )
        ),
        {"company", "contact"},
        [],  # every contract matches: hash joins over the tenant's rows, read by index
    ),
}


COMPANIES, PER_COMPANY = 300, 4


async def _insert(scope: TenantScope, model: Any, rows: list[dict[str, Any]]) -> None:
    async with scope.writing() as uow:
        await uow.execute(sa.insert(model).values([scope.owned(**row) for row in rows]))


@pytest.fixture(scope="module")
async def populated(sessions: Any, servers: Servers) -> TenantScope:
    """A tenant with 300 companies, each with 4 contacts, deals, activities and owners of
    each, and a contract; the tables analyzed."""
    scope = await new_scope(sessions)
    me = scope.actor_id
    pipeline, stage = uuid.uuid4(), uuid.uuid4()
    await _insert(scope, models.Pipeline, [{"id": pipeline, "name": "P"}])
    await _insert(
        scope, models.PipelineStage, [{"id": stage, "pipeline_id": pipeline, "name": "S"}]
    )
    companies_ = [{"id": uuid.uuid4(), "name": f"C{n}"} for n in range(COMPANIES)]
    contacts_, deals_, activities_ = [], [], []
    for company in companies_:
        for n in range(PER_COMPANY):
            contact = {"id": uuid.uuid4(), "last_name": f"K{n}", "company_id": company["id"]}
            deal = {
                "id": uuid.uuid4(),
                "title": f"D{n}",
                "pipeline_id": pipeline,
                "stage_id": stage,
                "company_id": company["id"],
                "contact_id": contact["id"],
                "status": (DealStatus.OPEN, DealStatus.WON)[n % 2],
            }
            activity = {
                "type": models.ActivityType.CALL,
                "subject": "A",
                "company_id": company["id"],
                "contact_id": contact["id"],
                "deal_id": deal["id"],
            }
            contacts_.append(contact)
            deals_.append(deal)
            activities_.append(activity)
    await _insert(scope, models.Company, companies_)
    await _insert(scope, models.Contact, contacts_)
    await _insert(scope, models.Deal, deals_)
    await _insert(scope, models.Activity, activities_)
    await _insert(
        scope, models.Contract, [{"company_id": c["id"], "title": "V"} for c in companies_]
    )
    for model, key, rows in (
        (models.CompanyOwner, "company_id", companies_),
        (models.ContactOwner, "contact_id", contacts_),
        (models.DealOwner, "deal_id", deals_),
    ):
        await _insert(scope, model, [{key: row["id"], "user_id": me} for row in rows])
    owner = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    try:
        await owner.execute("ANALYZE")
    finally:
        await owner.close()
    return scope


@pytest.mark.parametrize("case", CASES)
async def test_relation_filters_reach_related_tables_by_index(
    populated: TenantScope, case: str
) -> None:
    query, related, correlations = CASES[case]
    scope = populated
    statement = query.statement(query.entity.columns).options(*READ_FILTERS)
    compiled = statement.compile(dialect=DIALECT)
    values = {**query.bounds(), TENANT_PARAMETER: scope.tenant_id}
    sql, parameters = positional_values(compiled, compiled.construct_params(params=values))
    async with scope.driver_reading() as reading:
        role = await reading.driver.fetchval("SELECT current_user")
        assert role == "crm_tenant"
        # What is asserted is that each correlation *can* be an index condition under
        # row-level security (a condition that is not leakproof could not). Whether the planner
        # prefers it to hashing or merging depends on the statistics of the whole database,
        # which other tests' tenants change: with those off it shows the index it can use.
        for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin"):
            await reading.driver.execute(f"SET LOCAL {setting} = off")
        rows = await reading.driver.fetch(f"EXPLAIN {sql}", *parameters)
    plan = "\n".join(row[0] for row in rows)
    assert "Seq Scan" not in plan, plan
    for table in related:
        by_index = rf"(Index (Only )?Scan (Backward )?using \w+|Bitmap Heap Scan) on {table}\b"
        assert re.search(by_index, plan), (table, plan)
    conditions = "\n".join(re.findall(r"Index Cond: (.*)", plan))
    for related_key, record_key in correlations:
        (table, column), (record, key) = related_key.split("."), record_key.split(".")
        either = rf"\b{column} = {record}\.{key}\b|\b{key} = {table}\.{column}\b"
        assert re.search(either, conditions), (related_key, record_key, plan)
