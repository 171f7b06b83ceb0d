"""The stored sort keys (models/sort_keys.py, alembic 0019): what they hold, that cursors made
before them still read, and that they stay the database's own (no record value, no event)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import models
from app.data.pagination import CURSOR_VALUE, PageRequest, encode_cursor
from app.data.row_values import record_columns
from app.errors import BadUserInput
from app.services.contracts import queries as contracts
from app.services.deals import queries as deals
from models.base import DERIVED
from models.sort_keys import rank_of
from tests.conftest import Api, error_codes, error_fields
from tests.test_paging import seed_companies, seed_deals

KEYS = ("_key", "_cents", "_rank")
_ID = "6c9b9792-ecfe-4fba-b1ff-4360f2652033"


def _sort_key_columns() -> list[tuple[Any, sa.Column[Any]]]:
    found = []
    for mapper in models.metadata.sorted_tables:
        for column in mapper.columns:
            if column.computed is not None and column.name.endswith(KEYS):
                found.append((mapper, column))
    return found


def test_every_sort_key_column_is_the_databases_own() -> None:
    """Generated, and DERIVED: never read with a record (so in no read model, event `changes`,
    export or GraphQL type), never written (inserts, COPY and updates name record columns)."""
    keys = _sort_key_columns()
    assert len(keys) == 19  # 18 sorts use, contact.source_rank a filter (0022)
    for table, column in keys:
        assert column.info.get(DERIVED), (table.name, column.name)
    for model in (models.Company, models.Contact, models.Deal, models.Activity):
        names = {column.key for column in record_columns(model)}
        assert not {name for name in names if name.endswith(KEYS)}, model


async def test_the_keys_hold_what_the_orders_compared(api: Api, owner_sessions: Any) -> None:
    """A deal's cents, status rank and title key as PostgreSQL computes them; the ranks follow
    the enum's declared order in PostgreSQL (what the old ORDER BY status compared)."""
    companies = await seed_companies(api, 1)
    ids = await seed_deals(api, companies, count=4)
    async with owner_sessions() as session:
        declared = (await session.execute(sa.text("SELECT enum_range(NULL::deal_status)"))).scalar()
        rows = (
            await session.execute(
                sa.text(
                    "SELECT value, value_cents, status, status_rank, title, title_key FROM deal "
                    "WHERE id = ANY(CAST(:ids AS uuid[]))"
                ),
                {"ids": ids},
            )
        ).all()
    assert [models.DealStatus(value) for value in declared] == list(models.DealStatus)
    assert len(rows) == 4
    for value, cents, status, rank, title, title_key in rows:
        assert cents == int(value * 100) and title_key == title.lower()
        assert rank == rank_of(models.DealStatus, models.DealStatus(status))


@pytest.mark.parametrize(
    ("order", "old", "new"),
    [
        (deals.DealOrderField.VALUE, "12.50", 1250),
        (deals.DealOrderField.VALUE, "7", 700),
        (deals.DealOrderField.STATUS, "WON", 2),
    ],
)
def test_a_cursor_of_before_the_keys_reads_as_the_same_position(
    order: deals.DealOrderField, old: Any, new: int
) -> None:
    query = deals.deals_page(deals.DealQuery(PageRequest(first=1), order=order))
    for value in (old, new):
        cursor = encode_cursor(query.order, value, _ID)
        page = deals.deals_page(deals.DealQuery(PageRequest(first=1, after=cursor), order=order))
        assert page.bounds()[CURSOR_VALUE] == new


@pytest.mark.parametrize(
    ("query", "value"),
    [
        (deals.DealQuery(PageRequest(first=1), order=deals.DealOrderField.VALUE), "1.234"),
        (deals.DealQuery(PageRequest(first=1), order=deals.DealOrderField.VALUE), "1e13"),
        (deals.DealQuery(PageRequest(first=1), order=deals.DealOrderField.VALUE), 10**15),
        (deals.DealQuery(PageRequest(first=1), order=deals.DealOrderField.VALUE), 1.5),
        (deals.DealQuery(PageRequest(first=1), order=deals.DealOrderField.STATUS), "NOPE"),
        (deals.DealQuery(PageRequest(first=1), order=deals.DealOrderField.STATUS), 4),
        (deals.DealQuery(PageRequest(first=1), order=deals.DealOrderField.STATUS), 0),
        (deals.DealQuery(PageRequest(first=1), order=deals.DealOrderField.STATUS), True),
    ],
)
def test_a_cursor_with_a_value_no_key_holds_is_bad_input(
    query: deals.DealQuery, value: Any
) -> None:
    cursor = encode_cursor(deals.deals_page(query).order, value, _ID)
    asked = deals.DealQuery(PageRequest(first=1, after=cursor), order=query.order)
    with pytest.raises(BadUserInput):
        deals.deals_page(asked).bounds()


DEALS = """query($after: String, $order: DealOrder) {
  deals(first: 2, after: $after, orderBy: $order) {
    edges { cursor node { id value status } } } }"""


async def test_pages_after_an_old_cursor_and_a_new_one_are_the_same(api: Api) -> None:
    """Through the API (the compiled path and the executor, compared by the suite): a cursor
    of before the keys and the one the server gives now continue at the same row; a cursor
    naming no amount is BAD_USER_INPUT, never a 500."""
    companies = await seed_companies(api, 1)
    await seed_deals(api, companies, count=6)
    for field, old_value in (("VALUE", Decimal), ("STATUS", str)):
        order = {"field": field, "direction": "DESC"}
        first = (await api.data(DEALS, {"order": order}))["deals"]["edges"]
        node = first[0]["node"]
        new_after = first[0]["cursor"]
        old_after = encode_cursor(
            f"Deal.{field.lower()}",
            str(old_value(node[field.lower()])),
            node["id"],
        )
        new = await api.data(DEALS, {"order": order, "after": new_after})
        old = await api.data(DEALS, {"order": order, "after": old_after})
        assert old == new
        assert new["deals"]["edges"][0]["node"] == first[1]["node"]
    bad = encode_cursor("Deal.value", "0.001", first[0]["node"]["id"])
    result = await api(DEALS, {"order": {"field": "VALUE"}, "after": bad})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert error_fields(result) == {"after"}


def test_contract_value_keys_are_nullable_and_parse_old_amounts() -> None:
    query = contracts.contracts_page(
        contracts.ContractQuery(PageRequest(first=1), order=contracts.ContractOrderField.VALUE)
    )
    assert query.key.nullable and query.key.parse("3.10") == 310


NESTED = """query($first: Int, $after: String, $last: Int, $before: String,
                 $order: ContactOrder) {
  companies(first: 10) { edges { node { id
    contacts(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
      edges { cursor node { id } } } } } } }"""
TOP = """query($c: ID!, $order: ContactOrder) {
  contacts(first: 50, filter: {companyId: $c}, orderBy: $order) { edges { cursor node { id } } } }"""


async def test_a_nested_page_of_a_nullable_key_walks_its_parts_like_the_top_level_list(
    api: Api,
) -> None:
    """A company's contacts by first name (NULLs last both ways): the nested page reads its
    values and its NULLs as two parts inside its LATERAL (app.data.child_pages), one row at a
    time forward and backward across the NULLs, in the top-level list's order and cursors;
    each parent's parts hold its own contacts only (another company's are in the same
    statement)."""
    company, other = await seed_companies(api, 2)
    create = "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }"
    for index, first_name in enumerate(("jan", None, "Anna", None, "Jan", "berta", None)):
        for parent in (company, other):
            contact = {"lastName": f"K{index}", "firstName": first_name, "companyId": parent}
            await api.data(create, {"i": contact})

    async def nested(**arguments: Any) -> list[Any]:
        found = await api.data(NESTED, {**arguments, "order": order})
        (node,) = [e["node"] for e in found["companies"]["edges"] if e["node"]["id"] == company]
        edges: list[Any] = node["contacts"]["edges"]
        return edges

    for direction in ("ASC", "DESC"):
        order = {"field": "FIRST_NAME", "direction": direction}
        top = (await api.data(TOP, {"c": company, "order": order}))["contacts"]["edges"]
        assert len(top) == 7
        forward: list[Any] = []
        after = None
        while True:
            edges = await nested(first=1, after=after)
            if not edges:
                break
            forward += edges
            after = edges[-1]["cursor"]
        assert forward == top, direction
        backward: list[Any] = []
        before = None
        while True:
            edges = await nested(last=2, before=before)
            if not edges:
                break
            backward = edges + backward
            before = edges[0]["cursor"]
        assert backward == top, direction


async def test_every_enum_value_has_the_rank_of_its_declared_place(
    owner_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A rank is a CASE written when the column was made: a value added to the enum later would
    rank NULL (missing from every status filter, out of every keyset) until a migration
    rewrites the expression. So each enum's values in PostgreSQL are the model's, in order,
    and the stored expression ranks each of them 1, 2, ... as `rank_of` does."""
    ranked = [
        (table, column, table.c[column.name.removesuffix("_rank")])
        for table, column in _sort_key_columns()
        if column.name.endswith("_rank")
    ]
    assert len(ranked) == 7
    async with owner_sessions() as session:
        for table, column, enum_column in ranked:
            members = enum_column.type.enum_class
            expression = (
                await session.execute(
                    sa.text(
                        "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN "
                        "pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
                        "WHERE d.adrelid = CAST(:table AS regclass) AND a.attname = :column"
                    ),
                    {"table": table.name, "column": column.name},
                )
            ).scalar_one()
            values = (
                await session.execute(
                    sa.text(
                        f"SELECT CAST({enum_column.name} AS text), {expression} FROM "
                        f"unnest(enum_range(NULL::{enum_column.type.name})) "
                        f"AS {enum_column.name}"
                    )
                )
            ).all()
            expected = [(m.value, rank_of(members, m)) for m in members]
            assert [tuple(row) for row in values] == expected, (table.name, column.name)
