"""`lexwareVouchers` of companies, contacts and deals are connections (issue 24, item 3): a
record's vouchers are those of the Lexware contact it is linked to, a deal's are its voucher
links; both newest voucher first (undated last), paged by cursors, counted on demand, one
statement per level for all parents, each tenant's own only; the compiled path leaves them to
the executor."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

import models
from app.data.tenancy import TenantScope
from tests.conftest import Api, StatementCounter, error_codes
from tests.factories import new_scope, nodes
from tests.test_deals import deal, pipeline
from tests.test_nested_connections import _insert

CREATE_COMPANY = "mutation($n: String!) { createCompany(input: {name: $n}) { id } }"
COMPANY_PAGE = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  company(id: $id) { lexwareVouchers(first: $first, after: $after, last: $last,
                                     before: $before) {
    totalCount edges { cursor node { voucherNumber } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""
DEAL_PAGE = """query($id: ID!, $first: Int, $after: String, $last: Int) {
  deal(id: $id) { lexwareVouchers(first: $first, after: $after, last: $last) {
    totalCount edges { cursor node { linkedAt linkedBy { id } voucher { voucherNumber } } }
    pageInfo { hasNextPage hasPreviousPage endCursor } } } }"""
DAY = datetime(2026, 3, 1, 9, tzinfo=UTC)


async def scope_of(api: Api, sessions: Any) -> TenantScope:
    me = (await api.data("{ me { tenant { id } user { id } } }"))["me"]
    return TenantScope(uuid.UUID(me["tenant"]["id"]), uuid.UUID(me["user"]["id"]), sessions)


async def linked_company(api: Api, scope: TenantScope, name: str) -> tuple[str, uuid.UUID]:
    """A company linked to a Lexware contact (its id, the Lexware contact's id)."""
    company_id = (await api.data(CREATE_COMPANY, {"n": name}))["createCompany"]["id"]
    lexware_id = uuid.uuid4()
    async with scope.writing() as uow:
        company = col(models.Company.id) == uuid.UUID(company_id)
        await uow.execute(
            sa.update(models.Company).where(company).values(lexware_contact_id=lexware_id)
        )
    return company_id, lexware_id


async def vouchers(
    scope: TenantScope, lexware_id: uuid.UUID, numbers: list[str], undated: int = 0
) -> list[uuid.UUID]:
    """Vouchers of the Lexware contact, one day apart (the first is the oldest), and
    `undated` more without a date; their ids."""
    ids = [uuid.uuid4() for _ in range(len(numbers) + undated)]
    rows = [
        {"id": voucher_id, "lexware_voucher_id": uuid.uuid4(), "voucher_type": "invoice",
         "voucher_status": "open", "voucher_number": number, "lexware_contact_id": lexware_id,
         "voucher_date": DAY + timedelta(days=n) if n < len(numbers) else None}
        for n, (voucher_id, number) in enumerate(zip(ids, [*numbers, *["-"] * undated], strict=True))
    ]  # fmt: skip
    await _insert(scope, models.LexwareVoucher, rows)
    return ids


def numbers(connection: dict[str, Any]) -> list[str]:
    return [node["voucherNumber"] for node in nodes(connection)]


async def company_page(api: Api, company_id: str, **arguments: Any) -> dict[str, Any]:
    data = await api.data(COMPANY_PAGE, {"id": company_id, **arguments})
    connection: dict[str, Any] = data["company"]["lexwareVouchers"]
    return connection


async def test_a_companys_vouchers_page_newest_first_with_cursors(api: Api, sessions: Any) -> None:
    scope = await scope_of(api, sessions)
    company_id, lexware_id = await linked_company(api, scope, "Acme")
    await vouchers(scope, lexware_id, ["RE-1", "RE-2", "RE-3", "RE-4"], undated=1)
    first = await company_page(api, company_id, first=2)
    assert numbers(first) == ["RE-4", "RE-3"] and first["totalCount"] == 5
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    second = await company_page(api, company_id, first=2, after=first["pageInfo"]["endCursor"])
    assert numbers(second) == ["RE-2", "RE-1"] and second["pageInfo"]["hasNextPage"]
    third = await company_page(api, company_id, first=2, after=second["pageInfo"]["endCursor"])
    assert numbers(third) == ["-"] and not third["pageInfo"]["hasNextPage"]  # undated last
    tail = await company_page(api, company_id, last=2)
    assert numbers(tail) == ["RE-1", "-"] and tail["pageInfo"]["hasPreviousPage"]
    back = await company_page(api, company_id, last=1, before=tail["pageInfo"]["startCursor"])
    assert numbers(back) == ["RE-2"]
    for arguments in ({"first": 201}, {"first": 2, "last": 1}, {"after": "nonsense"}):
        result = await api(COMPANY_PAGE, {"id": company_id, **arguments})
        assert error_codes(result) == ["BAD_USER_INPUT"], (arguments, result)


async def test_an_unlinked_record_has_an_empty_page_and_checks_its_arguments(api: Api) -> None:
    company_id = (await api.data(CREATE_COMPANY, {"n": "Ohne"}))["createCompany"]["id"]
    empty = await company_page(api, company_id, first=3)
    assert empty == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }
    for arguments in ({"first": 201}, {"after": "nonsense"}):
        result = await api(COMPANY_PAGE, {"id": company_id, **arguments})
        assert error_codes(result) == ["BAD_USER_INPUT"], (arguments, result)


async def test_a_contacts_vouchers_are_its_lexware_contacts(api: Api, sessions: Any) -> None:
    scope = await scope_of(api, sessions)
    created = await api.data('mutation { createContact(input: {lastName: "Inge"}) { id } }')
    contact_id, lexware_id = created["createContact"]["id"], uuid.uuid4()
    async with scope.writing() as uow:
        contact = col(models.Contact.id) == uuid.UUID(contact_id)
        await uow.execute(
            sa.update(models.Contact).where(contact).values(lexware_contact_id=lexware_id)
        )
    await vouchers(scope, lexware_id, ["RE-7", "RE-8"])
    query = """query($id: ID!) { contact(id: $id) { lexwareVouchers(first: 1) { totalCount
      edges { node { voucherNumber } } } } }"""
    shown = (await api.data(query, {"id": contact_id}))["contact"]["lexwareVouchers"]
    assert numbers(shown) == ["RE-8"] and shown["totalCount"] == 2


async def test_a_deals_voucher_links_page_newest_voucher_first(api: Api, sessions: Any) -> None:
    scope = await scope_of(api, sessions)
    company_id, lexware_id = await linked_company(api, scope, "Acme")
    ids = await vouchers(scope, lexware_id, ["RE-1", "RE-2", "RE-3"])
    await pipeline(api)
    deal_id = (await deal(api, companyId=company_id))["id"]
    links = [{"deal_id": uuid.UUID(deal_id), "voucher_id": v, "linked_by_id": scope.actor_id}
             for v in (ids[1], ids[0], ids[2])]  # fmt: skip
    await _insert(scope, models.DealVoucher, links)
    first = (await api.data(DEAL_PAGE, {"id": deal_id, "first": 2}))["deal"]["lexwareVouchers"]
    assert [n["voucher"]["voucherNumber"] for n in nodes(first)] == ["RE-3", "RE-2"]
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"]
    assert {n["linkedBy"]["id"] for n in nodes(first)} == {str(scope.actor_id)}
    after = first["pageInfo"]["endCursor"]
    rest = (await api.data(DEAL_PAGE, {"id": deal_id, "after": after}))["deal"]["lexwareVouchers"]
    assert [n["voucher"]["voucherNumber"] for n in nodes(rest)] == ["RE-1"]
    last = (await api.data(DEAL_PAGE, {"id": deal_id, "last": 1}))["deal"]["lexwareVouchers"]
    assert [n["voucher"]["voucherNumber"] for n in nodes(last)] == ["RE-1"]


async def test_another_tenant_with_the_same_lexware_contact_sees_only_its_own(
    api: Api, sessions: Any
) -> None:
    """Two tenants linked to one Lexware organisation cache the same contact's vouchers
    each for itself: each company's page and count hold its own tenant's only."""
    scope = await scope_of(api, sessions)
    company_id, lexware_id = await linked_company(api, scope, "Acme")
    await vouchers(scope, lexware_id, ["RE-1"])
    stranger = await new_scope(sessions)
    await vouchers(stranger, lexware_id, ["FREMD-1", "FREMD-2"])
    shown = await company_page(api, company_id)
    assert numbers(shown) == ["RE-1"] and shown["totalCount"] == 1


LEVELS = """{ companies(first: 50) { edges { node { name
  lexwareVouchers(first: 2) { TOTAL edges { node { voucherNumber } } } } } }
  deals(first: 50) { edges { node { title
    lexwareVouchers(first: 2) { edges { node { linkedAt voucher { voucherNumber } } } } } } } }"""


async def _statements(
    api: Api, sql: StatementCounter, compiled: StatementCounter, total: bool
) -> tuple[int, Any]:
    sql.statements.clear()
    compiled.statements.clear()
    data = await api.data(LEVELS.replace("TOTAL", "totalCount" if total else ""))
    assert compiled.count == 0, compiled.statements  # the compiled path declines them
    return sql.count, data


async def test_one_statement_per_level_for_1_and_for_20_parents(
    api: Api, sessions: Any, sql: StatementCounter, compiled_sql: StatementCounter
) -> None:
    """companies; their vouchers (pages and counts together); deals; their links; the
    links' vouchers: five statements for 1 company and deal as for 20, the count only when
    selected."""
    scope = await scope_of(api, sessions)
    await pipeline(api)

    async def parents(start: int, count: int) -> None:
        for n in range(start, start + count):
            company_id, lexware_id = await linked_company(api, scope, f"C{n}")
            ids = await vouchers(scope, lexware_id, ["A", "B", "C"])
            deal_id = uuid.UUID((await deal(api, companyId=company_id))["id"])
            links = [{"deal_id": deal_id, "voucher_id": v} for v in ids]
            await _insert(scope, models.DealVoucher, links)

    await parents(0, 1)
    one, data = await _statements(api, sql, compiled_sql, total=True)
    assert data["companies"]["edges"][0]["node"]["lexwareVouchers"]["totalCount"] == 3
    await parents(1, 19)
    twenty, data = await _statements(api, sql, compiled_sql, total=True)
    assert len(data["companies"]["edges"]) == len(data["deals"]["edges"]) == 20
    for edge in data["deals"]["edges"]:
        links = nodes(edge["node"]["lexwareVouchers"])
        assert [link["voucher"]["voucherNumber"] for link in links] == ["C", "B"]
    assert one == twenty == 5, sql.statements
    assert len([s for s in sql.statements if "crm_total" in s]) == 1
    without, _ = await _statements(api, sql, compiled_sql, total=False)
    assert without == 5 and not [s for s in sql.statements if "crm_total" in s]


COSTED = """query($id: ID!, $n: Int) { company(id: $id) {
  lexwareVouchers(first: $n) { edges { node { id } } } } }"""


async def test_vouchers_are_priced_by_first_or_last(api: Api) -> None:
    company_id = (await api.data(CREATE_COMPANY, {"n": "Acme"}))["createCompany"]["id"]
    for n, size in ((7, 7), (None, 50), (200, 200)):
        result = await api(COSTED, {"id": company_id, "n": n})
        assert "errors" not in result, result
        assert result["extensions"]["cost"] == 1 + (1 + size * 2), n
    last = "query($id: ID!) { company(id: $id) { lexwareVouchers(last: 4) { edges { cursor } } } }"
    result = await api(last, {"id": company_id})
    assert "errors" not in result, result
    assert result["extensions"]["cost"] == 1 + (1 + 4), result
