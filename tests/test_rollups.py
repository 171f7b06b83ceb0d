"""Roll-ups of companies and contacts (app/services/rollups): lastActivityAt,
nextActivityDueAt, openDealCount and openDealValue, their values on hand-made data, one
statement per level on both execution paths, and sorting and paging by them.

The suite runs in verify mode: every query here is answered by the executor and by the
compiled path, and `compiled_agrees` fails a test whose answers differ; the statement counts
check that the compiled path did answer."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import SQLModel

from app.data.tenancy import TenantScope
from app.services.rollups.queries import (
    COMPANY_ROLLUPS,
    CONTACT_ROLLUPS,
    FIGURES,
    MAX_CURRENCIES,
    Rollup,
    RollupOwner,
)
from app.settings import Settings
from tests.conftest import (
    Api,
    StatementCounter,
    error_codes,
    error_fields,
    record_full_runs,
    serving,
)
from tests.factories import nodes

FIELDS = "lastActivityAt nextActivityDueAt openDealCount openDealValue { currency amount }"
NOTHING = {
    "lastActivityAt": None,
    "nextActivityDueAt": None,
    "openDealCount": 0,
    "openDealValue": [],
}


@dataclass
class Make:
    api: Api

    async def company(self, name: str) -> str:
        query = "mutation($n: String!) { createCompany(input: {name: $n}) { id } }"
        created: str = (await self.api.data(query, {"n": name}))["createCompany"]["id"]
        return created

    async def contact(self, name: str, company: str | None = None) -> str:
        query = """mutation($n: String!, $c: ID) { createContact(input: {lastName: $n,
          companyId: $c}) { id } }"""
        data = await self.api.data(query, {"n": name, "c": company})
        created: str = data["createContact"]["id"]
        return created

    async def activity(
        self,
        *,
        company: str | None = None,
        contact: str | None = None,
        due: str | None = None,
        completed: bool = False,
    ) -> dict[str, Any]:
        query = """mutation($c: ID, $k: ID, $d: DateTime) { createActivity(input: {type: TASK,
          subject: "A", companyId: $c, contactId: $k, dueAt: $d}) { id completedAt } }"""
        created: dict[str, Any] = (
            await self.api.data(query, {"c": company, "k": contact, "d": due})
        )["createActivity"]
        if completed:
            done = "mutation($i: ID!) { completeActivity(id: $i) { id completedAt } }"
            created = (await self.api.data(done, {"i": created["id"]}))["completeActivity"]
        return created

    async def deal(
        self,
        value: str,
        currency: str = "EUR",
        *,
        company: str | None = None,
        contact: str | None = None,
        status: str = "OPEN",
    ) -> str:
        query = """mutation($v: Decimal, $cur: String, $c: ID, $k: ID, $s: DealStatus,
          $r: LostReason) { createDeal(input: {title: "D", value: $v, currency: $cur,
          companyId: $c, contactId: $k, status: $s, lostReason: $r}) { id } }"""
        variables = {"v": value, "cur": currency, "c": company, "k": contact, "s": status}
        variables["r"] = "PRICE" if status == "LOST" else None
        created: str = (await self.api.data(query, variables))["createDeal"]["id"]
        return created

    async def delete(self, kind: str, record: str) -> None:
        await self.api.data(f"mutation($i: ID!) {{ delete{kind}(id: $i) }}", {"i": record})


async def pipeline(api: Api) -> None:
    await api.data(
        """mutation { createPipeline(input: {name: "V", stages: [{name: "Neu"},
          {name: "Gewonnen", kind: WON}, {name: "Verloren", kind: LOST}]}) { id } }"""
    )


async def figures(api: Api, kind: str, record: str) -> dict[str, Any]:
    found: dict[str, Any] = (
        await api.data(f"query($i: ID!) {{ {kind}(id: $i) {{ {FIELDS} }} }}", {"i": record})
    )[kind]
    return found


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_each_roll_up_counts_the_records_own_activities_and_deals(api: Api) -> None:
    """Completed vs open activities, due dates (overdue included, none), deleted activities and
    deals, several currencies, WON and LOST deals, and what a company's contact has on its
    own: a company's figures are over what its `activities` and `deals` fields list."""
    make = Make(api)
    await pipeline(api)
    acme, empty = await make.company("Acme"), await make.company("Leer")
    person = await make.contact("Kunz", acme)

    first = await make.activity(company=acme, due="2019-01-01T00:00:00Z", completed=True)
    # (completed: no longer open, its due date is no next one)
    latest = await make.activity(company=acme, completed=True)
    removed = await make.activity(company=acme, completed=True)  # later still, then deleted
    await make.delete("Activity", removed["id"])
    await make.activity(company=acme, due="2030-01-01T00:00:00Z")
    await make.activity(company=acme, due="2020-03-04T05:06:07Z")  # overdue: still next
    await make.activity(company=acme)  # open, no due date
    await make.activity(company=acme, contact=person, due="2021-01-01T00:00:00Z")  # both
    own = await make.activity(contact=person, completed=True)  # the contact's alone

    await make.deal("100.50", company=acme)
    await make.deal("200.25", company=acme, contact=person)
    await make.deal("10", "USD", company=acme)
    await make.deal("1000", company=acme, status="WON")
    await make.deal("5", company=acme, status="LOST")
    await make.delete("Deal", await make.deal("7", company=acme))
    await make.deal("50", "CHF", contact=person)

    assert _moment(first["completedAt"]) < _moment(latest["completedAt"])
    assert await figures(api, "company", acme) == {
        "lastActivityAt": latest["completedAt"],
        "nextActivityDueAt": "2020-03-04T05:06:07+00:00",
        "openDealCount": 3,
        "openDealValue": [
            {"currency": "EUR", "amount": "300.75"},
            {"currency": "USD", "amount": "10.00"},
        ],
    }
    assert await figures(api, "contact", person) == {
        "lastActivityAt": own["completedAt"],
        "nextActivityDueAt": "2021-01-01T00:00:00+00:00",
        "openDealCount": 2,
        "openDealValue": [
            {"currency": "CHF", "amount": "50.00"},
            {"currency": "EUR", "amount": "200.25"},
        ],
    }
    assert await figures(api, "company", empty) == NOTHING


async def test_another_tenants_activities_and_deals_never_count(api: Api) -> None:
    """The same data in a second tenant leaves the first one's figures alone, and every
    subquery of the figures carries the tenant filter."""
    other = f"t-{uuid.uuid4().hex[:12]}"
    theirs = Make(Api(api.client, api.tokens, other))
    await pipeline(theirs.api)
    their_company = await theirs.company("Acme")
    await theirs.activity(company=their_company, completed=True, due="2020-01-01T00:00:00Z")
    await theirs.activity(company=their_company, due="2020-01-01T00:00:00Z")
    await theirs.deal("99", company=their_company)

    mine = Make(api)
    await pipeline(api)
    company = await mine.company("Acme")
    assert await figures(api, "company", company) == NOTHING
    page = await api.data(f"{{ companies {{ edges {{ node {{ id {FIELDS} }} }} }} }}")
    assert [edge["node"] for edge in page["companies"]["edges"]] == [{"id": company, **NOTHING}]
    # their record read with our token: not found, nothing of it shows
    result = await api(f'{{ company(id: "{their_company}") {{ {FIELDS} }} }}')
    assert error_codes(result) == ["NOT_FOUND"]

    for owner in (COMPANY_ROLLUPS, CONTACT_ROLLUPS):
        sql = _literal_sql(owner)
        for table in ("activity", "deal"):
            subqueries = sql.count(f"FROM {table} \n")
            assert subqueries and sql.count(f"{table}.tenant_id = ") == subqueries, sql
            assert sql.count(f"{table}.deleted_at IS NULL") == subqueries, sql  # the trash


def _literal_sql(owner: RollupOwner) -> str:
    from app.data.tenant_filter import READ_FILTERS

    statement = sa.select(
        owner.model.id, *(Rollup(owner, figure).expression(owner.model) for figure in FIGURES)
    ).options(*READ_FILTERS)
    return str(statement.compile(dialect=postgresql.dialect()))


LEVELS = f"""query($first: Int) {{ companies(first: $first) {{ edges {{ node {{ id {FIELDS}
  contacts {{ edges {{ node {{ id {FIELDS} }} }} }} }} }} }} }}"""


async def _seed_levels(make: Make, companies: int) -> None:
    for index in range(companies):
        company = await make.company(f"F{index}")
        contact = await make.contact(f"K{index}", company)
        await make.activity(company=company, completed=True)
        await make.activity(contact=contact, due="2030-01-01T00:00:00Z")
        await make.deal("1", company=company, contact=contact)
        await make.deal("2", "USD", company=company)


async def test_one_statement_per_level_whatever_the_page_size(
    api: Api, sql: StatementCounter, compiled_sql: StatementCounter
) -> None:
    """Companies with their contacts, every figure on both levels: the executor reads the
    figures of a level in one statement (all four together), the compiled path reads them in
    the statement that fetches the level's records; neither count depends on the page size."""
    make = Make(api)
    await pipeline(api)
    await _seed_levels(make, 6)
    counts = {}
    for first in (2, 6):
        sql.statements.clear()
        compiled_sql.statements.clear()
        page = (await api.data(LEVELS, {"first": first}))["companies"]["edges"]
        assert len(page) == first
        assert all(edge["node"]["openDealCount"] == 2 for edge in page)
        assert all(
            edge["node"]["contacts"]["edges"][0]["node"]["openDealCount"] == 1 for edge in page
        )
        counts[first] = (sql.count, compiled_sql.count)
        rollups = [s for s in sql.statements if "json_agg" in s]
        assert len(rollups) == 2, sql.statements  # companies' figures, contacts' figures
    # executor: page, contacts, the figures of each; compiled: page, contacts
    assert counts == {2: (4, 2), 6: (4, 2)}, (sql.statements, compiled_sql.statements)
    compiled_page = next(s for s in compiled_sql.statements if "AS sort_key" in s)
    assert "json_agg" in compiled_page and "max(activity.completed_at)" in compiled_page


async def test_the_compiled_path_reads_only_the_figures_asked_for(
    api: Api, compiled_sql: StatementCounter
) -> None:
    make = Make(api)
    await pipeline(api)
    company = await make.company("Acme")
    await make.activity(company=company, completed=True)
    query = "query($i: ID!) { company(id: $i) { name lastActivityAt } }"
    data = await api.data(query, {"i": company})
    assert data["company"]["lastActivityAt"] is not None
    (statement,) = compiled_sql.statements
    assert "max(activity.completed_at)" in statement and "FROM deal" not in statement


@pytest.fixture
async def compiled_api(api: Api, settings: Settings) -> AsyncIterator[Api]:
    """The same tenant through an app in production mode ("on"), where a document the
    compiled path answered is admitted: answered from its plan, without the executor."""
    async with serving(settings.model_copy(update={"compiled_execution": "on"})) as client:
        yield Api(client, api.tokens, api.tenant)


async def test_a_list_view_with_roll_ups_and_a_roll_up_sort_stays_on_the_compiled_path(
    api: Api, compiled_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    make = Make(api)
    await pipeline(api)
    await _seed_levels(make, 3)
    variables = {"field": "OPEN_DEAL_VALUE", "direction": "DESC", "currency": "USD"}
    for query, values in ((LEVELS, {"first": 3}), (SORTED, variables)):
        expected = await api.data(query, values)  # verify mode: the executor's answer
        await compiled_api.data(query, values)  # answered by the plan, and admitted
        full_runs = record_full_runs(monkeypatch)
        assert await compiled_api.data(query, values) == expected
        assert full_runs == []  # not the executor: the admitted plan answered
        monkeypatch.undo()


JOINED = """query($i: ID!) { contact(id: $i) { deals { edges { node { title company { id
  lastActivityAt openDealCount openDealValue { currency amount } }
  contact { nextActivityDueAt } } } } } }"""


async def test_the_compiled_path_reads_figures_of_rows_joined_into_a_level(
    api: Api, compiled_sql: StatementCounter
) -> None:
    """A deal's company and contact are joined into the deals' statement: their figures are
    computed there, for the joined rows (verify mode compares them with the executor's)."""
    make = Make(api)
    await pipeline(api)
    company = await make.company("Acme")
    person = await make.contact("Kunz", company)
    done = await make.activity(company=company, completed=True)
    await make.activity(contact=person, due="2024-02-03T04:05:06Z")
    await make.deal("10.10", company=company, contact=person)
    await make.deal("5", "USD", company=company)
    compiled_sql.statements.clear()
    deals = nodes((await api.data(JOINED, {"i": person}))["contact"]["deals"])
    assert compiled_sql.count == 2, compiled_sql.statements  # the contact; its deals
    assert deals == [
        {
            "title": "D",
            "company": {
                "id": company,
                "lastActivityAt": done["completedAt"],
                "openDealCount": 2,
                "openDealValue": [
                    {"currency": "EUR", "amount": "10.10"},
                    {"currency": "USD", "amount": "5.00"},
                ],
            },
            "contact": {"nextActivityDueAt": "2024-02-03T04:05:06+00:00"},
        }
    ]


# --- sorting --------------------------------------------------------------------------------

SORTED = """query($field: CompanyOrderField!, $direction: OrderDirection!, $after: String,
  $currency: String) {
  companies(first: 2, after: $after, orderBy: {field: $field, direction: $direction,
            currency: $currency}) {
    edges { cursor node { id FIELDS } } pageInfo { hasNextPage endCursor } } }""".replace(
    "FIELDS", FIELDS
)
SORTED_CONTACTS = SORTED.replace("companies(", "contacts(").replace(
    "CompanyOrderField", "ContactOrderField"
)

FAR_PAST = "1970-01-01T00:00:00+00:00"
FAR_FUTURE = "9999-12-31T00:00:00+00:00"


def _value_in(node: dict[str, Any], currency: str) -> Decimal:
    amounts = [Decimal(m["amount"]) for m in node["openDealValue"] if m["currency"] == currency]
    return amounts[0] if amounts else Decimal(0)


def _sort_value(field: str, node: dict[str, Any], currency: str) -> Any:
    """What the server sorts by: a missing time as the far past (last activity) or the far
    future (next due), compared as instants."""
    if field == "LAST_ACTIVITY_AT":
        return _moment(node["lastActivityAt"] or FAR_PAST)
    if field == "NEXT_ACTIVITY_DUE_AT":
        return _moment(node["nextActivityDueAt"] or FAR_FUTURE)
    if field == "OPEN_DEAL_COUNT":
        return node["openDealCount"]
    return _value_in(node, currency)


async def _all_pages(api: Api, query: str, variables: dict[str, Any]) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        data = await api.data(query, {**variables, "after": after})
        (connection,) = data.values()
        nodes += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes
        after = connection["pageInfo"]["endCursor"]
        assert len(nodes) < 50


async def _seed_sortable(make: Make, kind: str) -> list[str]:
    """Companies or contacts with ties (no activity at all, equal counts and values) and
    NULLs."""
    new = make.company if kind == "company" else make.contact
    records = [await new(f"S{index}") for index in range(7)]
    a, b, c, d, e, f, _ = records
    await make.activity(**{kind: a}, completed=True)
    await make.activity(**{kind: b}, completed=True)
    await make.activity(**{kind: a}, completed=True)  # a is now the latest
    await make.activity(**{kind: c}, due="2031-01-01T00:00:00Z")  # open: no last activity
    await make.activity(**{kind: d}, due="2020-01-01T00:00:00Z")
    await make.activity(**{kind: e}, due="2020-01-01T00:00:00Z")  # a tie with d
    for record, values in ((a, ["5", "5"]), (b, ["10"]), (c, ["10"]), (d, ["3", "7"])):
        for value in values:
            await make.deal(value, **{kind: record})
    await make.deal("100", "USD", **{kind: e})
    await make.deal("1", "USD", **{kind: f})
    await make.deal("20", **{kind: f}, status="WON")
    return records


@pytest.mark.parametrize("kind", ["company", "contact"])
@pytest.mark.parametrize(
    ("field", "currency"),
    [
        ("LAST_ACTIVITY_AT", None),
        ("NEXT_ACTIVITY_DUE_AT", None),
        ("OPEN_DEAL_COUNT", None),
        ("OPEN_DEAL_VALUE", None),
        ("OPEN_DEAL_VALUE", "USD"),
    ],
)
async def test_lists_sort_and_page_by_a_roll_up_in_both_directions(
    api: Api, kind: str, field: str, currency: str | None
) -> None:
    """Paging through two at a time finds every record once, in (value, id) order, ties and
    missing values included, ascending and descending."""
    make = Make(api)
    await pipeline(api)
    records = await _seed_sortable(make, kind)
    query = SORTED if kind == "company" else SORTED_CONTACTS
    orders = {}
    for direction in ("ASC", "DESC"):
        variables = {"field": field, "direction": direction, "currency": currency}
        nodes = await _all_pages(api, query, variables)
        assert sorted(node["id"] for node in nodes) == sorted(records)
        keyed = [(_sort_value(field, n, currency or "EUR"), uuid.UUID(n["id"])) for n in nodes]
        assert keyed == sorted(keyed, reverse=direction == "DESC"), keyed
        orders[direction] = [node["id"] for node in nodes]
    assert orders["DESC"] == orders["ASC"][::-1]


async def test_without_activities_a_record_is_least_recent_and_least_urgent(api: Api) -> None:
    """NULLs: no completed activity sorts last when the most recent come first; no due
    activity sorts last when the most urgent come first."""
    make = Make(api)
    await pipeline(api)
    active, idle = await make.company("Aktiv"), await make.company("Ruhig")
    await make.activity(company=active, completed=True)
    await make.activity(company=active, due="2020-01-01T00:00:00Z")
    recent = await _all_pages(api, SORTED, {"field": "LAST_ACTIVITY_AT", "direction": "DESC"})
    urgent = await _all_pages(api, SORTED, {"field": "NEXT_ACTIVITY_DUE_AT", "direction": "ASC"})
    assert [n["id"] for n in recent] == [active, idle]
    assert [n["id"] for n in urgent] == [active, idle]


async def test_a_sort_by_open_deal_value_needs_a_known_currency_and_its_own_cursors(
    api: Api,
) -> None:
    make = Make(api)
    await pipeline(api)
    for name in ("A", "B", "C"):
        await make.deal("1", company=await make.company(name))
    variables = {"field": "OPEN_DEAL_VALUE", "direction": "ASC", "currency": "USD"}
    page = (await api.data(SORTED, variables))["companies"]
    after = page["pageInfo"]["endCursor"]
    for currency in ("EUR", None):  # another currency's order refuses the USD cursor
        result = await api(SORTED, {**variables, "currency": currency, "after": after})
        assert error_codes(result) == ["BAD_USER_INPUT"], result
        assert error_fields(result) == {"after"}
    for wrong in ("eur", "XXX", "EURO", "", "E\x00R"):
        result = await api(SORTED, {**variables, "currency": wrong})
        assert error_codes(result) == ["BAD_USER_INPUT"], result
        assert error_fields(result) == {"orderBy.currency"}


# --- the query cost and the bound it relies on ----------------------------------------------


async def test_open_deal_value_costs_its_declared_bound_per_record(api: Api) -> None:
    base = "{ companies(first: 10) { edges { node { id %s } } } }"
    without = await api(base % "")
    with_values = await api(base % "openDealValue { amount }")
    extra = with_values["extensions"]["cost"] - without["extensions"]["cost"]
    assert extra == 10 * MAX_CURRENCIES


async def test_no_record_reads_more_currencies_than_the_declared_bound(
    api: Api, owner_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Deals written past the API's currency list (the column takes any three capitals):
    the figure keeps to the bound the query cost counts, on both paths."""
    make = Make(api)
    await pipeline(api)
    company = await make.company("Viele")
    template = await make.deal("1", company=company)
    async with owner_sessions() as session, session.begin():
        await session.execute(
            sa.text(
                """INSERT INTO deal (id, tenant_id, title, value, currency, pipeline_id,
                  stage_id, company_id, status, version, created_at, updated_at)
                SELECT gen_random_uuid(), tenant_id, title, value,
                  chr(65 + n / 676) || chr(65 + n / 26 % 26) || chr(65 + n % 26),
                  pipeline_id, stage_id, company_id, status, 1, now(), now()
                FROM deal, generate_series(0, :n) AS n WHERE deal.id = :template"""
            ),
            {"n": MAX_CURRENCIES + 5, "template": uuid.UUID(template)},
        )
    found = await figures(api, "company", company)
    assert found["openDealCount"] == MAX_CURRENCIES + 7
    assert len(found["openDealValue"]) == MAX_CURRENCIES
    codes = [money["currency"] for money in found["openDealValue"]]
    assert codes == sorted(codes)


# --- plans -----------------------------------------------------------------------------------


def _copies(table: str, overrides: str, source: str) -> sa.TextClause:
    """INSERT copies of a row (`t`), some columns replaced, for each row of `source`: test data
    in bulk, as the tables' owner. Generated columns (a name's `search_name`) are left to
    PostgreSQL, which refuses a value for them."""
    written = [c.name for c in SQLModel.metadata.tables[table].columns if c.computed is None]
    columns = ", ".join(written)
    values = ", ".join(f"(copy).{name}" for name in written)
    return sa.text(
        f"""INSERT INTO {table} ({columns}) SELECT {values} FROM (SELECT jsonb_populate_record(
          t, jsonb_build_object({overrides})) AS copy FROM {table} t, {source}) copies"""
    )


async def _bulk_tenant(api: Api, owner_sessions: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    """The tenant of 200 companies with a contact each, 10 activities and 4 deals per contact
    (linked to its company too); analyzed, so the plans are those of real data."""
    make = Make(api)
    await pipeline(api)
    company = await make.company("Vorlage")
    contact = await make.contact("Vorlage", company)
    deal = await make.deal("1", company=company, contact=contact)
    activity = (await make.activity(company=company, contact=contact))["id"]
    async with owner_sessions() as session, session.begin():
        tenant: uuid.UUID = (
            await session.execute(
                sa.text("SELECT tenant_id FROM company WHERE id = :c"), {"c": company}
            )
        ).scalar_one()
        values = {"c": company, "k": contact, "tenant": tenant}
        name = "'id', gen_random_uuid(), 'name', t.name || n"
        await session.execute(
            _copies("company", name, "generate_series(1, 199) n WHERE t.id = :c"), values
        )
        linked = "'id', gen_random_uuid(), 'company_id', c.id"
        others = "company c WHERE t.id = :k AND c.tenant_id = :tenant AND c.id <> :c"
        await session.execute(_copies("contact", linked, others), values)
        both = "'id', gen_random_uuid(), 'company_id', k.company_id, 'contact_id', k.id"
        for table, template, count in (("activity", activity, 10), ("deal", deal, 4)):
            source = f"""contact k, generate_series(1, {count}) n WHERE t.id = :template
              AND k.tenant_id = :tenant AND k.id <> :k"""
            await session.execute(_copies(table, both, source), {**values, "template": template})
        for table in ("company", "contact", "activity", "deal"):
            await session.execute(sa.text(f"ANALYZE {table}"))
    return tenant


@pytest.mark.parametrize(
    ("owner", "indexes"),
    [
        (
            COMPANY_ROLLUPS,
            (
                "ix_activity_company_id_completed_at",
                "ix_activity_company_id_due_at",
                "ix_deal_tenant_id_company_id",
            ),
        ),
        (
            CONTACT_ROLLUPS,
            (
                "ix_activity_contact_id_completed_at",
                "ix_activity_contact_id_due_at",
                "ix_deal_tenant_id_contact_id",
            ),
        ),
    ],
)
async def test_the_figures_use_the_indexes_of_the_records_links_as_the_tenant(
    api: Api,
    owner_sessions: async_sessionmaker[AsyncSession],
    sessions: async_sessionmaker[AsyncSession],
    owner: RollupOwner,
    indexes: tuple[str, ...],
) -> None:
    """Under row-level security (the tenant's role), the subqueries find a page's records'
    activities and deals through the (tenant_id, company_id / contact_id) indexes: their
    conditions are uuid equalities, leakproof, so they are index conditions."""
    tenant = await _bulk_tenant(api, owner_sessions)
    scope = TenantScope(tenant, None, sessions)
    model = owner.model
    figures = (Rollup(owner, figure).expression(model) for figure in FIGURES)
    page = sa.select(model.id, *figures).order_by(model.id).limit(50)
    async with scope.reading() as reads:
        ids = (await reads.execute_rows(sa.select(model.id).limit(60))).scalars().all()
        assert len(ids) == 60
        literal = {"literal_binds": True}
        sql = str(page.compile(dialect=postgresql.dialect(), compile_kwargs=literal))
        plan = "\n".join((await reads.execute(sa.text(f"EXPLAIN {sql}"))).scalars())
        role = (await reads.execute(sa.text("SELECT current_user"))).scalar_one()
    assert role == "crm_tenant"
    for index in indexes:  # each subquery: an index scan on the tenant and the record
        scan = rf"(Scan (Backward )?using|Bitmap Index Scan on) {index}\b.*\n\s+Index Cond: (.*)"
        found = re.search(scan, plan)
        assert found, plan
        assert f"{owner.link} = {model.__tablename__}.id" in found[3], plan
        assert "tenant_id = " in found[3], plan
