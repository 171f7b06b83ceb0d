"""Every list filter seeks under row-level security (issue 25, item 1: the filters).

`INVENTORY` (tests/filter_inventory.py) is every filter field of the lists (companies,
contacts, deals, activities, contracts, company relationships, the owners of a relation,
pipelines): the SQL condition it makes, whether that is leakproof (only then can it be an index
condition as `crm_tenant`), and the index that answers it, or why none does.
`test_the_inventory_names_every_filter_field` holds it to the filter dataclasses, so a new
field has to be entered there.

Each field with an index is then EXPLAINed as the server runs its page: as `crm_tenant`, in the
compiled path's read transaction (`TenantScope.driver_reading`), with the tenant filter the
page statement gets, on a tenant of 1,500 rows per list (analyzed) where the filtered value is
rare. The condition must be an `Index Cond` (tags: the tag rows' lookup). What is asserted is
that the condition *can* be an index condition (a condition that is not leakproof never could);
which path the planner prefers also depends on the statistics of the whole database, which
other tests' tenants change, so sequential scans, hash and merge joins are off, as in
tests/test_relation_filter_plans.py. The patterns accept the enum, money, lower() and array
forms too: run against the filters before their leakproof forms, every enum, value, department
and tag case fails (the condition is a Filter).
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
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
from app.services.common.relation_filters import Walk, conditions
from app.services.companies import queries as companies
from app.services.contacts import queries as contacts
from app.services.contracts import queries as contracts
from app.services.deals import queries as deals
from app.services.relationships import queries as relationships
from app.services.relationships.rules import RELATIONSHIP
from models import (
    ActivityType,
    CompanySize,
    ContactSource,
    ContractStatus,
    DealStatus,
    EntityStatus,
)
from models.tags import tag_keys
from resolvers.compiled.sql import DIALECT
from tests.conftest import Servers, _asyncpg_dsn
from tests.factories import new_scope
from tests.filter_inventory import COMBINATORS, FILTERS, INVENTORY


def test_the_inventory_names_every_filter_field() -> None:
    for name, filter_type in FILTERS.items():
        fields = {f.name for f in dataclasses.fields(filter_type)} - COMBINATORS
        assert set(INVENTORY[name]) == fields, name


def test_every_filter_is_leakproof_or_needs_no_index() -> None:
    """A condition that is not leakproof can never be an index condition as `crm_tenant`:
    each that is left must say why no index is wanted."""
    for name, fields in INVENTORY.items():
        for field, entry in fields.items():
            assert entry.leakproof or (entry.index is None and entry.why), (name, field)
            assert entry.index is not None or entry.why, (name, field)


# --- the plans ------------------------------------------------------------------------------

N, RARE = 1500, 5  # rows per list; the first RARE of them hold each filtered value
LONG_AGO = datetime(2000, 1, 1, 12, tzinfo=UTC)
NOW = datetime(2026, 12, 1, tzinfo=UTC)
LATER = datetime(2100, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Ids:
    """The rare values the populated tenant holds (each on RARE rows of its list)."""

    me: uuid.UUID
    industry: uuid.UUID
    account_type: uuid.UUID
    pipeline: uuid.UUID
    stage: uuid.UUID
    company: uuid.UUID
    contact: uuid.UUID
    deal: uuid.UUID
    relationship_type: uuid.UUID


def _cond(column: str) -> str:
    """The column compared in an Index Cond (its leakproof key form or the column itself)."""
    return rf"\b{column}(_rank|_cents|_key)? (= ANY|=|<=|>=|<|>) "


def _page(module: Any, query: str, page: str, **filter_values: Any) -> PageQuery[Any]:
    filter_type = {
        companies: companies.CompanyFilter,
        contacts: contacts.ContactFilter,
        deals: deals.DealFilter,
        activities: activities.ActivityFilter,
        contracts: contracts.ContractFilter,
    }[module]
    request = PageRequest(first=20)
    built = getattr(module, query)(request, filter_type(**filter_values))
    result: PageQuery[Any] = getattr(module, page)(built)
    return result


def _cases(ids: Ids) -> dict[tuple[str, str], tuple[PageQuery[Any], str]]:
    """(list, field) -> the page filtered by the field alone, and the Index Cond to find."""

    def company(**f: Any) -> PageQuery[Any]:
        return _page(companies, "CompanyQuery", "companies_page", **f)

    def contact(**f: Any) -> PageQuery[Any]:
        return _page(contacts, "ContactQuery", "contacts_page", **f)

    def deal(**f: Any) -> PageQuery[Any]:
        return _page(deals, "DealQuery", "deals_page", **f)

    def activity(**f: Any) -> PageQuery[Any]:
        return _page(activities, "ActivityQuery", "activities_page", **f)

    def contract(**f: Any) -> PageQuery[Any]:
        return _page(contracts, "ContractQuery", "contracts_page", **f)

    since = {"from": LONG_AGO.replace(hour=0), "to": LONG_AGO.replace(hour=23)}
    day = {"from": date(2000, 1, 1), "to": date(2000, 1, 1)}
    tag = r"\btag_keys? (=|@>) "

    def relationship(**f: Any) -> PageQuery[Any]:
        where = conditions(relationships.RelationshipFilter(**f), Walk())
        by_creation = relationships.RELATIONSHIP_BY_CREATION
        return PageQuery(RELATIONSHIP, where, by_creation, PageRequest(first=20))

    mine = activities.ActivityQuery(
        PageRequest(first=20), activities.ActivityFilter(assigned_to_me=True), caller=ids.me
    )
    return {
        ("companies", "statuses"): (
            company(statuses=(EntityStatus.BLOCKED,)),
            _cond("status"),
        ),
        ("companies", "industry_id"): (company(industry_id=ids.industry), _cond("industry_id")),
        ("companies", "account_type_id"): (
            company(account_type_id=ids.account_type),
            _cond("account_type_id"),
        ),
        ("companies", "owner_id"): (company(owner_id=ids.me), _cond("user_id")),
        ("companies", "tag"): (company(tag="SELTEN"), tag),
        ("companies", "sizes"): (
            company(sizes=(CompanySize.ENTERPRISE, CompanySize.LARGE)),
            _cond("company_size"),
        ),
        ("companies", "created_from"): (
            company(created_from=since["from"], created_to=since["to"]),
            _cond("created_at"),
        ),
        ("companies", "updated_from"): (
            company(updated_from=since["from"], updated_to=since["to"]),
            _cond("updated_at"),
        ),
        ("contacts", "company_id"): (contact(company_id=ids.company), _cond("company_id")),
        ("contacts", "statuses"): (contact(statuses=(EntityStatus.BLOCKED,)), _cond("status")),
        ("contacts", "sources"): (
            contact(sources=(ContactSource.TRADE_FAIR, ContactSource.PARTNER)),
            _cond("source"),
        ),
        ("contacts", "tag"): (contact(tag="selten"), tag),
        ("contacts", "department"): (
            contact(department="EINKAUF"),
            r"\b(lower\()?department(_key)?\)? = ",
        ),
        ("contacts", "owner_id"): (contact(owner_id=ids.me), _cond("user_id")),
        ("deals", "pipeline_id"): (deal(pipeline_id=ids.pipeline), _cond("pipeline_id")),
        ("deals", "stage_id"): (deal(stage_id=ids.stage), _cond("stage_id")),
        ("deals", "statuses"): (deal(statuses=(DealStatus.LOST,)), _cond("status")),
        ("deals", "company_id"): (deal(company_id=ids.company), _cond("company_id")),
        ("deals", "contact_id"): (deal(contact_id=ids.contact), _cond("contact_id")),
        ("deals", "owner_id"): (deal(owner_id=ids.me), _cond("user_id")),
        ("deals", "value_min"): (
            deal(value_min=Decimal("500000.005"), value_max=Decimal("2000000")),
            _cond("value"),
        ),
        ("deals", "close_from"): (
            deal(close_from=day["from"], close_to=day["to"]),
            _cond("expected_close_date"),
        ),
        ("deals", "closed_after"): (
            deal(closed_after=since["from"], closed_before=since["to"]),
            _cond("closed_at"),
        ),
        ("activities", "types"): (activity(types=(ActivityType.MEETING,)), _cond("type")),
        ("activities", "contact_id"): (activity(contact_id=ids.contact), _cond("contact_id")),
        ("activities", "company_id"): (activity(company_id=ids.company), _cond("company_id")),
        ("activities", "deal_id"): (activity(deal_id=ids.deal), _cond("deal_id")),
        ("activities", "assignee_id"): (activity(assignee_id=ids.me), _cond("assignee_id")),
        ("activities", "due_from"): (
            activity(due_from=since["from"], due_to=since["to"]),
            _cond("due_at"),
        ),
        ("activities", "overdue"): (activity(overdue=True), _cond("due_at")),
        ("activities", "assigned_to_me"): (
            activities.activities_page(mine),
            _cond("assignee_id"),
        ),
        ("contracts", "company_id"): (contract(company_id=ids.company), _cond("company_id")),
        ("contracts", "statuses"): (
            contract(statuses=(ContractStatus.TERMINATED,)),
            _cond("status"),
        ),
        ("relationships", "company_id"): (
            relationship(company_id=ids.company),
            _cond("from_company_id") + "(.|\n)*" + _cond("to_company_id"),
        ),
        ("relationships", "type_id"): (
            relationship(type_id=ids.relationship_type),
            _cond("relationship_type_id"),
        ),
        ("contracts", "ends_from"): (
            contract(ends_from=day["from"], ends_to=day["to"]),
            _cond("end_date"),
        ),
    }


# The other bound of a range is planned with its pair (both bounds set, one index range).
PAIRED = {
    ("companies", "created_to"): ("companies", "created_from"),
    ("companies", "updated_to"): ("companies", "updated_from"),
    ("deals", "value_max"): ("deals", "value_min"),
    ("deals", "close_to"): ("deals", "close_from"),
    ("deals", "closed_before"): ("deals", "closed_after"),
    ("activities", "due_to"): ("activities", "due_from"),
    ("contracts", "ends_to"): ("contracts", "ends_from"),
}
PLANNED = [
    (name, field)
    for name, fields in INVENTORY.items()
    for field, entry in fields.items()
    if entry.index is not None and (name, field) not in PAIRED
]


def test_every_indexed_filter_has_a_plan_case() -> None:
    ids = Ids(*(uuid.uuid4() for _ in range(9)))
    assert set(_cases(ids)) == set(PLANNED)
    assert all(INVENTORY[a][b].index == INVENTORY[c][d].index for (a, b), (c, d) in PAIRED.items())
    declared = {index.name for table in models.metadata.tables.values() for index in table.indexes}
    named = {e.index for fields in INVENTORY.values() for e in fields.values() if e.index}
    assert named <= declared, named - declared


async def _insert(scope: TenantScope, model: Any, rows: list[dict[str, Any]]) -> None:
    async with scope.writing() as uow:
        await uow.execute(sa.insert(model).values([scope.owned(**row) for row in rows]))


def _tags(rare: bool, spelled: str) -> dict[str, Any]:
    tags = [spelled] if rare else ["Häufig"]
    return {"tags": tags, "tag_keys": tag_keys(tags)}


@pytest.fixture(scope="module")
async def populated(sessions: Any, servers: Servers) -> tuple[TenantScope, Ids]:
    """A tenant of N companies, contacts, deals, activities and contracts, each row linked to
    a company of five (and its contact and deal); the first RARE rows of each list hold the
    values the cases filter by. Analyzed."""
    scope = await new_scope(sessions)
    assert scope.actor_id is not None
    me = scope.actor_id
    ids = Ids(me, *(uuid.uuid4() for _ in range(8)))
    common_pipeline, common_stage = uuid.uuid4(), uuid.uuid4()
    await _insert(scope, models.Industry, [{"id": ids.industry, "name": "Selten"}])
    await _insert(scope, models.AccountType, [{"id": ids.account_type, "name": "Selten"}])
    await _insert(
        scope,
        models.Pipeline,
        [{"id": p, "name": n} for p, n in ((ids.pipeline, "A"), (common_pipeline, "B"))],
    )
    await _insert(
        scope,
        models.PipelineStage,
        [
            {"id": ids.stage, "pipeline_id": ids.pipeline, "name": "S"},
            {"id": common_stage, "pipeline_id": common_pipeline, "name": "S"},
        ],
    )
    company_ids = [ids.company, *(uuid.uuid4() for _ in range(N // 5 - 1))]
    rare = [n < RARE for n in range(N)]
    when = [LONG_AGO if r else NOW for r in rare]
    await _insert(
        scope,
        models.Company,
        [
            {
                "id": company_ids[n] if n < len(company_ids) else uuid.uuid4(),
                "name": f"C{n}",
                "status": EntityStatus.BLOCKED if rare[n] else EntityStatus.ACTIVE,
                "company_size": CompanySize.ENTERPRISE if rare[n] else CompanySize.SMALL,
                "industry_id": ids.industry if rare[n] else None,
                "account_type_id": ids.account_type if rare[n] else None,
                "created_at": when[n],
                "updated_at": when[n],
                **_tags(rare[n], "Selten"),
            }
            for n in range(N)
        ],
    )
    contact_ids = [ids.contact, *(uuid.uuid4() for _ in range(N - 1))]
    await _insert(
        scope,
        models.Contact,
        [
            {
                "id": contact_ids[n],
                "last_name": f"K{n}",
                "company_id": company_ids[n // 5],
                "status": EntityStatus.BLOCKED if rare[n] else EntityStatus.ACTIVE,
                "source": ContactSource.TRADE_FAIR if rare[n] else ContactSource.WEBSITE,
                "department": "Einkauf" if rare[n] else "Vertrieb",
                **_tags(rare[n], "SELTEN"),
            }
            for n in range(N)
        ],
    )
    deal_ids = [ids.deal, *(uuid.uuid4() for _ in range(N - 1))]
    await _insert(
        scope,
        models.Deal,
        [
            {
                "id": deal_ids[n],
                "title": f"D{n}",
                "pipeline_id": ids.pipeline if rare[n] else common_pipeline,
                "stage_id": ids.stage if rare[n] else common_stage,
                "company_id": company_ids[n // 5],
                "contact_id": ids.contact if rare[n] else contact_ids[n],
                "status": DealStatus.LOST if rare[n] else DealStatus.OPEN,
                "lost_reason": models.LostReason.PRICE if rare[n] else None,
                "value": Decimal("900000.50") if rare[n] else Decimal("100.00"),
                "expected_close_date": date(2000, 1, 1) if rare[n] else date(2030, 1, 1),
                "closed_at": LONG_AGO if rare[n] else None,
            }
            for n in range(N)
        ],
    )
    await _insert(
        scope,
        models.Activity,
        [
            {
                "type": ActivityType.MEETING if rare[n] else ActivityType.NOTE,
                "subject": "A",
                "company_id": company_ids[n // 5],
                "contact_id": ids.contact if rare[n] else contact_ids[n],
                "deal_id": ids.deal if rare[n] else deal_ids[n],
                "assignee_id": me if rare[n] else None,
                "due_at": LONG_AGO if rare[n] else LATER,
            }
            for n in range(N)
        ],
    )
    await _insert(
        scope,
        models.Contract,
        [
            {
                "company_id": company_ids[n // 5],
                "title": "V",
                "status": ContractStatus.TERMINATED if rare[n] else ContractStatus.ACTIVE,
                "end_date": date(2000, 1, 1) if rare[n] else date(2030, 1, 1),
            }
            for n in range(N)
        ],
    )
    common_type = uuid.uuid4()
    await _insert(
        scope,
        models.RelationshipType,
        [{"id": ids.relationship_type, "name": "Selten"}, {"id": common_type, "name": "Oft"}],
    )
    await _insert(
        scope,
        models.CompanyRelationship,
        [
            {
                "from_company_id": ids.company if rare[n] else company_ids[n],
                "to_company_id": company_ids[n + 1],
                "relationship_type_id": ids.relationship_type if rare[n] else common_type,
            }
            for n in range(len(company_ids) - 1)
        ],
    )
    for model, key, owned in (
        (models.CompanyOwner, "company_id", company_ids[:RARE]),
        (models.ContactOwner, "contact_id", contact_ids[:RARE]),
        (models.DealOwner, "deal_id", deal_ids[:RARE]),
    ):
        await _insert(scope, model, [{key: row, "user_id": me} for row in owned])
    owner = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    try:
        await owner.execute("ANALYZE")
    finally:
        await owner.close()
    return scope, ids


async def _plan(scope: TenantScope, query: PageQuery[Any]) -> str:
    statement = query.statement(query.entity.columns).options(*READ_FILTERS)
    compiled = statement.compile(dialect=DIALECT)
    values = {**query.bounds(), TENANT_PARAMETER: scope.tenant_id}
    sql, parameters = positional_values(compiled, compiled.construct_params(params=values))
    async with scope.driver_reading() as reading:
        assert await reading.driver.fetchval("SELECT current_user") == "crm_tenant"
        # Whether the planner prefers the key's index depends on the statistics of the whole
        # database (other tests' tenants): with these off it shows the index it can use.
        for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin"):
            await reading.driver.execute(f"SET LOCAL {setting} = off")
        rows = await reading.driver.fetch(f"EXPLAIN {sql}", *parameters)
    return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize(("name", "field"), PLANNED, ids=[f"{n}.{f}" for n, f in PLANNED])
async def test_the_filter_is_an_index_condition_under_row_level_security(
    populated: tuple[TenantScope, Ids], name: str, field: str
) -> None:
    scope, ids = populated
    query, condition = _cases(ids)[(name, field)]
    plan = await _plan(scope, query)
    assert "Seq Scan" not in plan, plan
    index_conditions = "\n".join(re.findall(r"Index Cond: (.*)", plan))
    # The inventory's index, or another that holds the condition (PostgreSQL 18 may skip-scan
    # a unique index's middle column: the owners' (tenant_id, company_id, user_id)).
    assert re.search(condition, index_conditions), plan


async def test_the_filters_find_the_rare_rows(populated: tuple[TenantScope, Ids]) -> None:
    """The same pages, run: each finds exactly the RARE rows it is about (the forms compare
    the same values the enum, money and lower() conditions did)."""
    scope, ids = populated
    for (name, field), (query, _) in _cases(ids).items():
        async with scope.reading() as reads:
            rows = (await reads.execute_rows(query.statement(query.entity.columns))).all()
        assert len(rows) == RARE, (name, field)
