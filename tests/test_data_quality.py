"""dataQualityIssues: stored values that fail today's identifier checks (rows of an older
version, values kept from Lexware), each reason, paging, tenant isolation, roles, the bounded
page (candidates by the partial index, rows found valid not read again until they change)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from starlette.applications import Starlette

from app.data.tenancy import TenantScope
from app.demo import seed_demo_tenant
from app.services.common import identifiers
from app.services.data_quality import queries
from models import Company, Contact, ContactEmail, ContactPhone
from models.identifier_checks import unchecked
from tests.conftest import Api, StatementCounter, error_codes
from tests.factories import add_row
from tests.lexware_fixtures import ACME, Lexware
from tests.test_identifiers import created, scope_of
from tests.test_lexware_contacts import IMPORT, SYNC

REPORT = """query($first: Int!, $after: String) {
  dataQualityIssues(first: $first, after: $after) {
    edges { cursor node { recordType recordId field value reason message
      record { __typename ... on Company { name } ... on Contact { lastName } } } }
    pageInfo { hasNextPage endCursor } scanned } }"""


async def report(api: Api, first: int = 200, after: str | None = None, **kw: Any) -> Any:
    data = await api.data(REPORT, {"first": first, "after": after}, **kw)
    return data["dataQualityIssues"]


async def issues(api: Api, **kw: Any) -> list[tuple[str, str, str]]:
    """(field, value, reason) of every issue, in the report's order."""
    found: list[tuple[str, str, str]] = []
    after = None
    while True:
        page = await report(api, after=after, **kw)
        found += [
            (e["node"]["field"], e["node"]["value"], e["node"]["reason"]) for e in page["edges"]
        ]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def old_rows(scope: TenantScope) -> dict[str, uuid.UUID]:
    """Rows as an older version wrote them, one failing value of each reason."""
    company = await add_row(
        scope,
        Company,
        name="Alt GmbH",
        vat_id="DE123456789",  # WRONG_CHECK_DIGIT
        tax_id="12345",  # INVALID_LENGTH
        trade_register_number="HRX 1",  # INVALID_FORMAT
        register_court="Amtsgericht Atlantis",  # UNKNOWN_COURT
        billing_address={"zip": "00123", "country_code": "DE"},  # OUT_OF_RANGE
        delivery_address={"zip": "1010", "country_code": "AT"},  # fine abroad
    )
    other = await add_row(scope, Company, name="Übersee Ltd", vat_id="US123456789")
    contact = await add_row(scope, Contact, first_name="Ina", last_name="Alt")
    await add_row(scope, ContactEmail, contact_id=contact, email="ina@@alt", is_primary=True)
    await add_row(scope, ContactPhone, contact_id=contact, phone="+49 01234 5678", is_primary=True)
    await add_row(scope, ContactPhone, company_id=company, phone="+49 711 1234560")  # valid
    return {"company": company, "other": other, "contact": contact}


EXPECTED = [
    ("vatId", "DE123456789", "WRONG_CHECK_DIGIT"),
    ("taxId", "12345", "INVALID_LENGTH"),
    ("tradeRegisterNumber", "HRX 1", "INVALID_FORMAT"),
    ("registerCourt", "Amtsgericht Atlantis", "UNKNOWN_COURT"),
    ("billingAddress.zip", "00123", "OUT_OF_RANGE"),
]


async def test_each_failing_value_is_listed_with_its_record_field_and_reason(
    api: Api, app: Starlette
) -> None:
    await created(api, name="Gut GmbH", vatId="DE811907980", taxId="143/123/45678")
    ids = await old_rows(await scope_of(api, app))
    page = await report(api)
    nodes = [edge["node"] for edge in page["edges"]]
    by_company = [
        (n["field"], n["value"], n["reason"]) for n in nodes if n["recordId"] == str(ids["company"])
    ]
    assert sorted(by_company) == sorted(EXPECTED)
    other = next(n for n in nodes if n["recordId"] == str(ids["other"]))
    assert (other["field"], other["reason"]) == ("vatId", "UNSUPPORTED_COUNTRY")
    by_contact = [n for n in nodes if n["recordId"] == str(ids["contact"])]
    assert {(n["field"], n["reason"]) for n in by_contact} == {
        ("emails", "INVALID_FORMAT"),
        ("phones", "NOT_ASSIGNED"),
    }
    assert {n["recordType"] for n in by_contact} == {"CONTACT"}
    assert by_contact[0]["record"] == {"__typename": "Contact", "lastName": "Alt"}
    assert nodes[0]["record"]["__typename"] == "Company"
    assert all(n["message"] for n in nodes)
    assert len(nodes) == 8  # nothing of the valid company, the Austrian postcode, the valid phone
    assert page["pageInfo"]["hasNextPage"] is False


async def test_pages_walk_the_issues_in_a_stable_order_without_gaps(
    api: Api, app: Starlette
) -> None:
    scope = await scope_of(api, app)
    await old_rows(scope)
    await old_rows(scope)
    whole = [(e["node"]["recordId"], e["node"]["field"]) for e in (await report(api))["edges"]]
    assert len(whole) == 16
    paged: list[tuple[str, str]] = []
    after = None
    for _ in range(20):
        page = await report(api, first=3, after=after)
        paged += [(e["node"]["recordId"], e["node"]["field"]) for e in page["edges"]]
        assert len(page["edges"]) <= 3
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert paged == whole
    result = await api(REPORT, {"first": 3, "after": "nonsense"})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert error_codes(await api(REPORT, {"first": 201})) == ["BAD_USER_INPUT"]


async def test_the_report_is_the_tenants_own_and_any_role_reads_it(
    api: Api, app: Starlette, tokens: Any
) -> None:
    await old_rows(await scope_of(api, app))
    other = Api(api.client, api.tokens, f"t-{uuid.uuid4().hex[:12]}")
    await created(other, name="Sauber GmbH", vatId="DE811907980")
    assert await issues(other) == []
    assert len(await issues(api, role="viewer")) == 8
    assert len(await issues(api, role="member")) == 8


async def test_rows_found_valid_are_not_read_again_until_they_change(
    api: Api, app: Starlette
) -> None:
    scope = await scope_of(api, app)
    valid = [await created(api, name=f"Gut {n}", vatId="DE811907980") for n in range(4)]
    await old_rows(scope)
    first = await report(api)
    assert first["scanned"] == 4 + 2 + 1 + 2  # companies, the e-mail, the phones
    again = await report(api)
    assert again["scanned"] == 2 + 1 + 1  # only the failing rows: the valid ones are marked
    assert [e["node"] for e in again["edges"]] == [e["node"] for e in first["edges"]]
    # a valid change through the API makes the row a candidate once more, and it stays clean
    await api.data(
        'mutation($id: ID!) { updateCompany(id: $id, input: {vatId: "DE136695976"}) { id } }',
        {"id": valid[0]["id"]},
    )
    assert (await report(api))["scanned"] == 2 + 1 + 1 + 1
    # a write by any other path (an older version) that makes a checked row fail is found
    spoil = (
        sa.update(Company)
        .where(col(Company.id) == uuid.UUID(valid[1]["id"]))
        .values(vat_id="DE811907981")
    )
    async with scope.writing() as uow:
        await uow.execute(spoil)
    found = await issues(api)
    assert ("vatId", "DE811907981", "WRONG_CHECK_DIGIT") in found


async def test_a_page_reads_at_most_its_scan_limit_and_says_where_it_stopped(
    api: Api, app: Starlette
) -> None:
    scope = await scope_of(api, app)
    for n in range(5):
        await created(api, name=f"Gut {n}", vatId="DE811907980")
    ids = await old_rows(scope)
    page = await queries.issues_page(scope, 50, None, scan_limit=3)
    assert (page.scanned, page.has_next_page) == (3, True)  # 13 candidate rows: not done
    seen = [issue for _, issue in page.issues]
    after = page.end_cursor
    for _ in range(20):
        if not page.has_next_page:
            break
        page = await queries.issues_page(scope, 50, after, scan_limit=3)
        assert page.scanned <= 3
        seen += [issue for _, issue in page.issues]
        after = page.end_cursor
    assert sorted((i.field, i.value) for i in seen if i.record_id == ids["company"]) == sorted(
        (field, value) for field, value, _ in EXPECTED
    )
    assert len(seen) == 8


async def test_the_candidates_come_from_the_partial_index_under_row_level_security(
    api: Api, app: Starlette
) -> None:
    scope = await scope_of(api, app)
    await old_rows(scope)
    for table in ("company", "contact_email", "contact_phone"):
        statement = (
            f"EXPLAIN SELECT id FROM {table} WHERE tenant_id = '{scope.tenant_id}' "
            f"AND {unchecked(table)} ORDER BY id LIMIT 200"
        )
        async with scope.reading() as reads:  # as crm_tenant, under the policies
            # a few rows: left to itself the planner reads the tenant's rows (what it may
            # not do at 100,000 rows); here it may not, so it shows which index serves
            for path in ("seqscan", "sort", "bitmapscan"):
                await reads.execute(sa.text(f"SET LOCAL enable_{path} = off"))
            plan = "\n".join((await reads.execute(sa.text(statement))).scalars())
        assert f"ix_{table}_identifiers_unchecked" in plan, plan


async def test_lexware_values_failing_the_checks_are_kept_and_reported(
    lexware: Lexware,
) -> None:
    contact = lexware.seed(
        {
            **ACME,
            "company": {**ACME["company"], "vatRegistrationId": "DE123456789"},  # type: ignore[dict-item]
            "phoneNumbers": {"business": ["+49 01234 5678"]},
        }
    )
    imported = (await lexware.api.data(IMPORT, {"l": contact["id"]}))["importCompanyFromLexware"]
    assert imported["vatId"] == "DE123456789"
    assert imported["phones"][0]["phone"] == "+49 01234 5678"
    assert sorted((f, r) for f, _v, r in await issues(lexware.api)) == [
        ("phones", "NOT_ASSIGNED"),
        ("vatId", "WRONG_CHECK_DIGIT"),
    ]
    lexware.fake.edit_in_web_app(lexware.key, contact["id"], {"company": {"taxNumber": "99"}})
    synced = (await lexware.api.data(SYNC, {"id": imported["id"]}))["syncCompanyFromLexware"]
    assert synced["taxId"] == "99"
    assert ("taxId", "99", "INVALID_LENGTH") in await issues(lexware.api)
    # the user's own edit is checked as ever
    result = await lexware.api(
        'mutation($id: ID!) { updateCompany(id: $id, input: {taxId: "99"}) { id } }',
        {"id": imported["id"]},
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]


async def test_the_demo_data_has_valid_identifiers_only(api: Api, app: Starlette) -> None:
    slug = f"demo-{uuid.uuid4().hex[:6]}"
    await seed_demo_tenant(app.state.runtime.sessions, slug)
    demo = Api(api.client, api.tokens, slug)
    page = await report(demo)
    assert page["edges"] == [] and page["pageInfo"]["hasNextPage"] is False
    assert page["scanned"] == 6 + 12 + 12  # every company, e-mail and phone was checked
    # and each value by its check directly, the register numbers and courts too
    companies = await demo.data(
        "{ companies(first: 50) { edges { node { vatId taxId tradeRegisterNumber "
        "registerCourt billingAddress { zip countryCode } emails { email } phones { phone } "
        "contacts { edges { node { emails { email } phones { phone } } } } } } } }"
    )
    nodes = [edge["node"] for edge in companies["companies"]["edges"]]
    assert len(nodes) == 6
    for node in nodes:
        assert identifiers.vat_id(node["vatId"]) == node["vatId"]
        assert identifiers.register_text(node["tradeRegisterNumber"]) == node["tradeRegisterNumber"]
        assert identifiers.register_court(node["registerCourt"]) == node["registerCourt"]
        address = node["billingAddress"]
        assert identifiers.postcode(address["zip"], address["countryCode"]) == address["zip"]
        for holder in (node, *(edge["node"] for edge in node["contacts"]["edges"])):
            for email in holder["emails"]:
                assert identifiers.email(email["email"]) == email["email"]
            for phone in holder["phones"]:
                assert identifiers.phone(phone["phone"]) == phone["phone"]


async def test_a_page_costs_a_statement_per_batch_of_a_table_and_one_per_marking(
    api: Api, app: Starlette, sql: StatementCounter
) -> None:
    await old_rows(await scope_of(api, app))  # candidates: 2 companies, 1 e-mail, 2 phones
    sql.statements.clear()
    await report(api)
    kinds = [statement.split()[0] for statement in sql.statements]
    # one SELECT of candidates per table, one UPDATE marking the valid phone, then the
    # records of the page: companies and contacts by id
    assert kinds == ["SELECT", "SELECT", "SELECT", "UPDATE", "SELECT", "SELECT"], sql.statements
    sql.statements.clear()
    await report(api)
    assert len(sql.statements) == 5  # the valid phone is no candidate any more


async def test_a_trashed_records_values_leave_the_report_until_it_is_restored(
    api: Api, app: Starlette
) -> None:
    """Trashed records are gone from every list: neither the company's own fields nor the
    contact's e-mail and phone are listed while they are in the trash (no issue with a null
    record); restored, they are back."""
    ids = await old_rows(await scope_of(api, app))
    listed = {(field, reason) for field, _, reason in await issues(api)}
    assert {("emails", "INVALID_FORMAT"), ("vatId", "WRONG_CHECK_DIGIT")} <= listed
    for kind in ("Company", "Contact"):
        variables = {"id": str(ids[kind.lower()])}
        await api.data(f"mutation($id: ID!) {{ delete{kind}(id: $id) }}", variables)
    page = await report(api)
    recorded = {edge["node"]["recordId"] for edge in page["edges"]}
    assert recorded == {str(ids["other"])}, page
    assert all(edge["node"]["record"] for edge in page["edges"])
    for kind in ("Company", "Contact"):
        variables = {"id": str(ids[kind.lower()])}
        await api.data(f"mutation($id: ID!) {{ restore{kind}(id: $id) {{ id }} }}", variables)
    assert {(field, reason) for field, _, reason in await issues(api)} == listed
