"""Duplicates that explain themselves: duplicateCandidates (by id and by draft), each rule
alone and combined, scores and strengths, possibleDuplicates on create and update answers,
rejectDuplicates (CONFLICT, nothing written, two concurrent creates), the tenant-wide
duplicates report, tenant isolation, bad input, and phones' stored E.164 form."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from alembic import command
from starlette.applications import Starlette

from app.migrations import alembic_config
from app.services.duplicates import queries, report
from app.services.duplicates.rules import (
    WEIGHTS,
    CompanyDraft,
    DuplicateKind,
    DuplicateRule,
    RuleMatch,
    combined,
)
from tests.conftest import Api, Servers, _asyncpg_dsn, error_codes
from tests.factories import new_scope
from tests.test_identifiers import scope_of
from tests.test_search import _explained

CREATE_COMPANY = "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }"
CREATE_CONTACT = "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }"
CANDIDATE = """record { __typename ... on Company { id name } ... on Contact { id lastName } }
  score strength matches { rule value candidateValue similarity }"""
BY_COMPANY = f"""query($id: ID!, $first: Int! = 10) {{
  duplicateCandidates(companyId: $id, first: $first) {{ {CANDIDATE} }} }}"""
BY_CONTACT = f"""query($id: ID!) {{ duplicateCandidates(contactId: $id) {{ {CANDIDATE} }} }}"""
BY_COMPANY_DRAFT = f"""query($d: CompanyDraftInput!) {{
  duplicateCandidates(company: $d) {{ {CANDIDATE} }} }}"""
BY_CONTACT_DRAFT = f"""query($d: ContactDraftInput!) {{
  duplicateCandidates(contact: $d) {{ {CANDIDATE} }} }}"""


async def company(api: Api, name: str, tenant: str | None = None, **values: Any) -> str:
    data = await api.data(CREATE_COMPANY, {"i": {"name": name, **values}}, tenant=tenant)
    return str(data["createCompany"]["id"])


async def contact(api: Api, last_name: str, **values: Any) -> str:
    data = await api.data(CREATE_CONTACT, {"i": {"lastName": last_name, **values}})
    return str(data["createContact"]["id"])


async def candidates_of(api: Api, company_id: str, **variables: Any) -> list[dict[str, Any]]:
    data = await api.data(BY_COMPANY, {"id": company_id, **variables})
    return list(data["duplicateCandidates"])


def rules_of(candidate: dict[str, Any]) -> set[str]:
    return {m["rule"] for m in candidate["matches"]}


# ---- each rule alone -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "mine", "theirs"),
    [
        ("VAT_ID", {"vatId": "DE 811 907 980"}, {"vatId": "DE811907980"}),
        (
            "EMAIL",
            {"emails": [{"email": "Info@Acme.de"}]},
            {"emails": [{"email": "buero@x.de"}, {"email": "info@acme.de"}]},
        ),
        ("PHONE", {"phones": [{"phone": "0711 1234560"}]}, {"phones": [{"phone": "+49 711 123456-0"}]}),
        ("WEBSITE_DOMAIN", {"website": "https://www.acme.de/kontakt"}, {"website": "acme.de"}),
        (
            "NAME_AND_POSTCODE",
            {"billingAddress": {"street": "A 1", "zip": "70173", "city": "Stuttgart"}},
            {"billingAddress": {"street": "B 2", "zip": "70173", "city": "Stuttgart"}},
        ),
    ],
)  # fmt: skip
async def test_each_exact_rule_alone_finds_the_other_company(
    api: Api, rule: str, mine: dict[str, Any], theirs: dict[str, Any]
) -> None:
    # Names that are not similar, except for the name-and-postcode rule (same name there).
    same_name = rule == "NAME_AND_POSTCODE"
    first = await company(api, "Alpha Werke GmbH", **mine)
    other = await company(api, "Alpha Werke KG" if same_name else "Zeta Handel AG", **theirs)
    await company(api, "Unrelated Omega", vatId="DE136695976")
    found = await candidates_of(api, first)
    assert [c["record"]["id"] for c in found] == [other]
    expected = {rule, "SIMILAR_NAME"} if same_name else {rule}
    assert rules_of(found[0]) == expected
    weight = WEIGHTS[DuplicateKind.COMPANY][DuplicateRule(rule)]
    if not same_name:
        assert found[0]["score"] == pytest.approx(weight)
    match = next(m for m in found[0]["matches"] if m["rule"] == rule)
    assert match["value"] and match["candidateValue"]  # both values, as stored


async def test_a_similar_name_matches_without_legal_forms_punctuation_and_umlauts(
    api: Api,
) -> None:
    first = await company(api, "Müller Maschinenbau GmbH & Co. KG")
    other = await company(api, "Mueller-Maschinenbau AG")
    far = await company(api, "Schneider Logistik GmbH")
    found = await candidates_of(api, first)
    assert [c["record"]["id"] for c in found] == [other]
    assert far not in [c["record"]["id"] for c in found]
    [match] = found[0]["matches"]
    assert match["rule"] == "SIMILAR_NAME" and match["similarity"] == 1.0
    assert match["value"] == "Müller Maschinenbau GmbH & Co. KG"
    assert match["candidateValue"] == "Mueller-Maschinenbau AG"
    assert found[0]["score"] == pytest.approx(
        WEIGHTS[DuplicateKind.COMPANY][DuplicateRule.SIMILAR_NAME]
    )
    assert found[0]["strength"] == "LIKELY"


async def test_rules_combine_and_candidates_come_strongest_first(api: Api) -> None:
    first = await company(
        api, "Becker Bau GmbH", vatId="DE811907980", phones=[{"phone": "0711 555"}]
    )
    both = await company(api, "Becker Bau KG", vatId="DE811907980", phones=[{"phone": "+49711555"}])
    vat_only = await company(api, "Anders Holz", vatId="DE811907980")
    name_only = await company(api, "Becker-Bau")
    found = await candidates_of(api, first)
    assert [c["record"]["id"] for c in found] == [both, vat_only, name_only]
    assert rules_of(found[0]) == {"VAT_ID", "PHONE", "SIMILAR_NAME"}
    scores = [c["score"] for c in found]
    assert scores == sorted(scores, reverse=True)
    matches = [
        RuleMatch(DuplicateRule.VAT_ID, "", ""),
        RuleMatch(DuplicateRule.PHONE, "", ""),
        RuleMatch(DuplicateRule.SIMILAR_NAME, "", "", 1.0),
    ]
    assert found[0]["score"] == pytest.approx(combined(DuplicateKind.COMPANY, matches))
    assert [c["strength"] for c in found] == ["STRONG", "STRONG", "LIKELY"]
    assert pytest.approx(found[0]["score"]) == 1 - (1 - 0.95) * (1 - 0.8) * (1 - 0.6)
    # first: 1 keeps the strongest
    assert [c["record"]["id"] for c in await candidates_of(api, first, first=1)] == [both]


async def test_ties_are_ordered_by_id(api: Api) -> None:
    first = await company(api, "Tie One", vatId="DE811907980")
    others = sorted([await company(api, f"Other {n}", vatId="DE811907980") for n in "xyz"])
    found = await candidates_of(api, first)
    assert [c["record"]["id"] for c in found] == others


# ---- contacts --------------------------------------------------------------------------------


async def test_contact_rules_email_phone_name_and_company(api: Api) -> None:
    acme = await company(api, "Acme")
    anna = await contact(
        api, "Schmidt", firstName="Anna", companyId=acme, emails=[{"email": "anna@acme.de"}]
    )
    same_email = await contact(api, "Other", firstName="Zora", emails=[{"email": "ANNA@acme.de"}])
    same_name_company = await contact(api, "Schmidt", firstName="Anna", companyId=acme)
    phone = await contact(api, "Zimmermann", phones=[{"phone": "0171 5550101"}])
    data = await api.data(BY_CONTACT, {"id": anna})
    found = {c["record"]["id"]: c for c in data["duplicateCandidates"]}
    assert set(found) == {same_email, same_name_company}
    assert rules_of(found[same_email]) == {"EMAIL"}
    assert rules_of(found[same_name_company]) == {"NAME_AND_COMPANY", "SIMILAR_NAME"}
    assert found[same_name_company]["strength"] == "STRONG"
    draft = {"firstName": "X", "lastName": "Y", "phones": ["+49 171 5550101"]}
    data = await api.data(BY_CONTACT_DRAFT, {"d": draft})
    assert [c["record"]["id"] for c in data["duplicateCandidates"]] == [phone]
    assert data["duplicateCandidates"][0]["record"]["__typename"] == "Contact"


# ---- drafts ----------------------------------------------------------------------------------


async def test_a_draft_is_checked_before_it_is_saved_and_an_update_draft_excludes_itself(
    api: Api,
) -> None:
    saved = await company(
        api,
        "Weber Gießerei GmbH",
        website="https://www.weber-guss.de",
        emails=[{"email": "info@weber-guss.de"}],
        billingAddress={"street": "A 1", "zip": "01067", "city": "Dresden"},
    )
    draft = {
        "name": "Weber Giesserei UG (haftungsbeschränkt)",
        "website": "weber-guss.de",
        "emails": ["INFO@weber-guss.de"],
        "zip": "01067",
    }
    data = await api.data(BY_COMPANY_DRAFT, {"d": draft})
    [found] = data["duplicateCandidates"]
    assert found["record"]["id"] == saved
    assert rules_of(found) == {"SIMILAR_NAME", "EMAIL", "WEBSITE_DOMAIN", "NAME_AND_POSTCODE"}
    email = next(m for m in found["matches"] if m["rule"] == "EMAIL")
    assert (email["value"], email["candidateValue"]) == ("INFO@weber-guss.de", "info@weber-guss.de")
    data = await api.data(BY_COMPANY_DRAFT, {"d": {**draft, "id": saved}})
    assert data["duplicateCandidates"] == []
    assert (await api.data(BY_COMPANY_DRAFT, {"d": {}}))["duplicateCandidates"] == []


# ---- possibleDuplicates ----------------------------------------------------------------------

POSSIBLE = """{ id possibleDuplicates { score strength record { ... on Company { id } }
  matches { rule } } }"""


async def test_create_and_update_answers_carry_possible_duplicates(api: Api) -> None:
    existing = await company(api, "Hahn Elektrotechnik GmbH", vatId="DE811907980")
    created = await api.data(
        f"mutation($i: CreateCompanyInput!) {{ createCompany(input: $i) {POSSIBLE} }}",
        {"i": {"name": "Hahn Elektrotechnik KG", "vatId": "DE811907980"}},
    )
    [candidate] = created["createCompany"]["possibleDuplicates"]
    assert candidate["record"]["id"] == existing
    assert {m["rule"] for m in candidate["matches"]} == {"VAT_ID", "SIMILAR_NAME"}
    updated = await api.data(
        f'mutation($id: ID!) {{ updateCompany(id: $id, input: {{vatId: null, name: "Zz"}}) '
        f"{POSSIBLE} }}",
        {"id": created["createCompany"]["id"]},
    )
    assert updated["updateCompany"]["possibleDuplicates"] == []


async def test_possible_duplicates_is_priced_per_record_in_the_query_cost(api: Api) -> None:
    plain = await api("{ companies(first: 200) { edges { node { id } } } }")
    asked = await api(
        "{ companies(first: 200) { edges { node { id possibleDuplicates { score } } } } }"
    )
    assert "errors" not in asked, asked
    # each of 200 companies: 5 candidates and the check's 5,000
    assert asked["extensions"]["cost"] - plain["extensions"]["cost"] == 200 * (5 + 5_000)


# ---- rejectDuplicates ------------------------------------------------------------------------


async def test_reject_duplicates_turns_a_strong_match_into_a_conflict_and_writes_nothing(
    api: Api,
) -> None:
    existing = await company(api, "Klein Logistik GmbH", vatId="DE811907980")
    count = "{ companies { totalCount } }"
    before = await api.data(count)
    result = await api(
        CREATE_COMPANY,
        {"i": {"name": "Anders", "vatId": "DE811907980", "rejectDuplicates": True}},
    )
    assert error_codes(result) == ["CONFLICT"]
    [error] = result["errors"]
    [named] = error["extensions"]["duplicates"]
    assert named["id"] == existing and named["name"] == "Klein Logistik GmbH"
    assert named["rules"] == ["VAT_ID"]
    assert "Klein Logistik GmbH" in error["message"] and "VAT_ID" in error["message"]
    assert await api.data(count) == before
    # A LIKELY match (similar name only) passes; without the flag a strong one passes too.
    await company(api, "Klein Logistik AG", rejectDuplicates=True)
    await company(api, "Anders", vatId="DE811907980")
    # An update that would make a record a strong duplicate is refused, and nothing changes.
    other = await company(api, "Sonstwer", vatId="DE136695976")
    update = """mutation($id: ID!) { updateCompany(id: $id,
      input: {vatId: "DE811907980", name: "Neu", rejectDuplicates: true}) { id } }"""
    assert error_codes(await api(update, {"id": other})) == ["CONFLICT"]
    data = await api.data(
        "query($id: ID!) { company(id: $id) { name vatId version } }", {"id": other}
    )
    assert data["company"] == {"name": "Sonstwer", "vatId": "DE136695976", "version": 1}


async def test_two_concurrent_creates_with_one_vat_id_do_not_both_pass(api: Api) -> None:
    for attempt in range(3):
        vat = ["DE811907980", "DE136695976", "DE129273398"][attempt]
        results = await asyncio.gather(
            *(
                api(
                    CREATE_COMPANY,
                    {"i": {"name": f"Racer {n}", "vatId": vat, "rejectDuplicates": True}},
                )
                for n in range(4)
            )
        )
        codes = [error_codes(r) for r in results]
        assert codes.count([]) == 1, codes
        assert codes.count(["CONFLICT"]) == 3, codes


# ---- the report ------------------------------------------------------------------------------

REPORT = """query($first: Int, $after: String) { duplicates(type: COMPANY, first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { score strength record { ... on Company { id } } other { ... on Company { id } }
    matches { rule value candidateValue } } } } }"""


async def test_the_report_lists_each_pair_once_strongest_first_keyset_paged(api: Api) -> None:
    a = await company(api, "Paar Eins", vatId="DE811907980", website="paar.de")
    b = await company(api, "Zweites Paar", vatId="DE811907980", website="https://paar.de")
    c = await company(api, "Drittes", phones=[{"phone": "030 1234567"}])
    d = await company(api, "Viertes", phones=[{"phone": "+49 30 1234567"}])
    await company(api, "Allein", vatId="DE136695976")
    pages, after = [], None
    while True:
        data = await api.data(REPORT, {"first": 1, "after": after})
        pages.append(data["duplicates"])
        if not data["duplicates"]["pageInfo"]["hasNextPage"]:
            break
        after = data["duplicates"]["pageInfo"]["endCursor"]
    edges = [edge for page in pages for edge in page["edges"]]
    pairs = [(e["node"]["record"]["id"], e["node"]["other"]["id"]) for e in edges]
    assert pairs == [tuple(sorted((a, b))), tuple(sorted((c, d)))]
    assert pages[0]["totalCount"] == 2
    first = edges[0]["node"]
    assert {m["rule"] for m in first["matches"]} == {"VAT_ID", "WEBSITE_DOMAIN"}
    assert first["score"] > edges[1]["node"]["score"]
    assert edges[1]["node"]["matches"][0]["rule"] == "PHONE"
    bad = await api(REPORT, {"first": 1, "after": "nonsense"})
    assert error_codes(bad) == ["BAD_USER_INPUT"]


# ---- isolation and bad input -----------------------------------------------------------------


async def test_another_tenants_record_is_never_a_candidate_nor_checkable(api: Api) -> None:
    mine = await company(api, "Gleich GmbH", vatId="DE811907980")
    theirs = await company(api, "Gleich GmbH", tenant="another", vatId="DE811907980")
    assert await candidates_of(api, mine) == []
    data = await api.data(BY_COMPANY_DRAFT, {"d": {"name": "Gleich", "vatId": "DE811907980"}})
    assert [c["record"]["id"] for c in data["duplicateCandidates"]] == [mine]
    result = await api(BY_COMPANY, {"id": theirs})
    assert error_codes(result) == ["NOT_FOUND"]
    assert (await api.data(REPORT, {"first": 5}))["duplicates"]["edges"] == []


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ("", "companyId, contactId, company, contact"),
        ('companyId: "00000000-0000-0000-0000-000000000001", contact: {}', "companyId, contactId, company, contact"),
        ('companyId: "x"', "companyId"),
        ('companyId: "00000000-0000-0000-0000-000000000001", first: 51', "first"),
        ('company: {name: "' + "n" * 201 + '"}', "company.name"),
        ('company: {emails: [' + ", ".join(['"a@b.de"'] * 21) + "]}", "company.emails"),
    ],
)  # fmt: skip
async def test_bad_input_is_named(api: Api, arguments: str, field: str) -> None:
    called = f"duplicateCandidates({arguments})" if arguments else "duplicateCandidates"
    result = await api(f"{{ {called} {{ score }} }}")
    assert error_codes(result) == ["BAD_USER_INPUT"], result
    [problem] = result["errors"][0]["extensions"]["fields"]
    assert problem["field"] == field


async def test_an_unknown_id_is_not_found(api: Api) -> None:
    result = await api(BY_COMPANY, {"id": "00000000-0000-0000-0000-000000000001"})
    assert error_codes(result) == ["NOT_FOUND"]


# ---- phones' E.164 form ----------------------------------------------------------------------


async def test_phones_store_their_e164_form_on_every_write(api: Api) -> None:
    made = await api.data(
        "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id phones { phone e164 } } }",
        {"i": {"name": "Fon", "phones": [{"phone": "0711 123456-0"}, {"phone": "+43 1 234567"}]}},
    )
    phones = {p["phone"]: p["e164"] for p in made["createCompany"]["phones"]}
    # (a number that cannot be read is refused on input now; rows stored before keep a NULL
    # form: the migration's test)
    assert phones == {"0711 123456-0": "+497111234560", "+43 1 234567": "+431234567"}
    added = await api.data(
        'mutation($id: ID!) { addCompanyPhone(companyId: $id, input: {phone: "0049 30 1234567"}) { phone { e164 } } }',
        {"id": made["createCompany"]["id"]},
    )
    assert added["addCompanyPhone"]["phone"]["e164"] == "+49301234567"


# ---- plans as the tenant role ----------------------------------------------------------------


@asynccontextmanager
async def _many_companies(servers: Servers, tenant_id: Any, count: int) -> AsyncIterator[None]:
    """`count` companies of a tenant with an e-mail and a phone each, the tables analyzed;
    removed afterwards and analyzed again, so that the statistics other tests' plans are
    made with are as they were (the database is shared)."""
    connection = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    try:
        await connection.execute(
            "INSERT INTO company (tenant_id, name, vat_id, website, billing_address) "
            "SELECT $1, md5(g::text), 'DE' || lpad(g::text, 9, '0'), "
            "'https://www.f' || g || '.de', jsonb_build_object('zip', lpad(g::text, 5, '0')) "
            "FROM generate_series(1, $2) g",
            tenant_id,
            count,
        )
        for table in ("contact_email", "contact_phone"):
            column, value = (
                ("email", "'info@f' || row_number() OVER () || '.de'")
                if table == "contact_email"
                else (
                    "phone, e164",
                    "'0711 ' || (1000000 + row_number() OVER ()), '+49711' || (1000000 + row_number() OVER ())",
                )
            )
            await connection.execute(
                f"INSERT INTO {table} (tenant_id, company_id, {column}) "
                f"SELECT $1, id, {value} FROM company WHERE tenant_id = $1",
                tenant_id,
            )
        await connection.execute("ANALYZE company, contact, contact_email, contact_phone")
        yield
    finally:
        await connection.execute("DELETE FROM company WHERE tenant_id = $1", tenant_id)
        await connection.execute("ANALYZE company, contact, contact_email, contact_phone")
        await connection.close()


async def test_candidate_lookups_are_index_scans_as_the_tenant_role(
    sessions: Any, servers: Servers
) -> None:
    """Every rule's condition is an index condition of its branch of duplicate_key as
    crm_tenant (under the tables' policies `lower()`, `crm_domain()` and `%` could not be), and
    the branches of the other kind are pruned."""
    scope = await new_scope(sessions)
    async with _many_companies(servers, scope.tenant_id, 2000):
        await _explain_candidates(scope)


async def _explain_candidates(scope: Any) -> None:
    draft = CompanyDraft(
        name="Firma Muster",
        vat_id="DE000000042",
        website="www.f42.de",
        zip="00042",
        emails=["INFO@f42.de"],
        phones=["0711 1000042"],
    )
    statement = queries.candidates_statement(draft.keys())
    async with scope.reading() as reads:
        assert (await reads.execute(sa.text("SELECT current_user"))).scalar() == "crm_tenant"
        await reads.execute(sa.text("SET LOCAL enable_seqscan = off"))
        explained = await reads.execute(
            sa.text(f"EXPLAIN {_explained(statement, scope.tenant_id)}")
        )
        plan = "\n".join(explained.scalars())
        keys = await queries.keys_of(
            reads,
            DuplicateKind.COMPANY,
            (await reads.execute(sa.text("SELECT id FROM company LIMIT 1"))).scalar_one(),
        )
        by_id = await reads.execute(
            sa.text(f"EXPLAIN {_explained(queries.candidates_statement(keys), scope.tenant_id)}")
        )
        plan_by_id = "\n".join(by_id.scalars())
    for index in (
        "ix_company_tenant_id_vat_id",
        "ix_contact_email_company_value",
        "ix_contact_phone_company_e164",
        "ix_company_tenant_id_domain",
        "ix_company_tenant_id_name_postcode",
    ):
        assert f"Index Scan using {index}" in plan or f"Index Scan on {index}" in plan, plan
        assert f"Index Scan using {index}" in plan_by_id or f"Index Scan on {index}" in plan_by_id
    # The similar name's `%` reaches the company table inside its branch (where its trigram
    # index may serve it; with 2,000 rows of one tenant the planner may still prefer the
    # tenant's btree: bench/RESULTS.md S10 shows the index at 100,000), never a filter
    # over the view's rows.
    assert "(dedupe_name % 'firma muster'::text)" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert "contact " not in plan and "search_name" not in plan  # the contacts' branches: pruned


async def test_the_report_reads_each_rules_keys_in_index_order_as_the_tenant_role(
    sessions: Any, servers: Servers
) -> None:
    """A report page reads a rule's keys in the order of its (tenant, key) index and groups
    them as read (no sort of the tenant's keys, a LIMIT that stops the scan early)."""
    scope = await new_scope(sessions)
    async with _many_companies(servers, scope.tenant_id, 2000):
        await _explain_groups(scope)


async def _explain_groups(scope: Any) -> None:
    indexes = {
        DuplicateRule.VAT_ID: "ix_company_tenant_id_vat_id",
        DuplicateRule.EMAIL: "ix_contact_email_company_value",
        DuplicateRule.NAME_AND_POSTCODE: "ix_company_tenant_id_name_postcode",
        DuplicateRule.PHONE: "ix_contact_phone_company_e164",
        DuplicateRule.WEBSITE_DOMAIN: "ix_company_tenant_id_domain",
        DuplicateRule.SIMILAR_NAME: "ix_company_tenant_id_dedupe_name",
    }
    async with scope.reading() as reads:
        # What is asserted is that the index *can* give the keys in order: with bitmap scans
        # and sorts allowed, the choice follows the statistics the other tests' tenants leave
        # (a full run once read the tenant's rows by bitmap and sorted them). Without the
        # index, a Sort stays in the plan.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            await reads.execute(sa.text(f"SET LOCAL {setting} = off"))
        for rule, index in indexes.items():
            statement = report.groups_statement(DuplicateKind.COMPANY, rule, "a", 20)
            explained = await reads.execute(
                sa.text(f"EXPLAIN {_explained(statement, scope.tenant_id)}")
            )
            plan = "\n".join(explained.scalars())
            # (the e-mails' non-partial index, also in key order, may serve as well)
            assert f"Index Scan using {index}" in plan or (
                rule is DuplicateRule.EMAIL and "ix_contact_email_tenant_id_value" in plan
            ), (rule, plan)
            assert "GroupAggregate" in plan and "Sort" not in plan, (rule, plan)


async def test_the_migration_backfills_stored_phones_and_names(scratch_database_url: str) -> None:
    """Phones stored before migration 0018 get their E.164 form (NULL for one that is no
    number), companies their name key; the rows keep their version."""
    config = alembic_config(scratch_database_url)
    await asyncio.to_thread(command.upgrade, config, "0014")
    db = await asyncpg.connect(_asyncpg_dsn(scratch_database_url))
    try:
        tenant = await db.fetchval("INSERT INTO tenant (slug, name) VALUES ('m', 'm') RETURNING id")
        company_id = await db.fetchval(
            "INSERT INTO company (tenant_id, name) VALUES ($1, 'Müller & Söhne GmbH & Co. KG') "
            "RETURNING id",
            tenant,
        )
        for phone in ("0711 / 123456-0", "+43 1 234567", "+999 1234"):
            await db.execute(
                "INSERT INTO contact_phone (tenant_id, company_id, phone) VALUES ($1, $2, $3)",
                tenant,
                company_id,
                phone,
            )
        await asyncio.to_thread(command.upgrade, config, "head")
        stored = dict(await db.fetch("SELECT phone, e164 FROM contact_phone"))
        assert stored == {
            "0711 / 123456-0": "+497111234560",
            "+43 1 234567": "+431234567",
            "+999 1234": None,
        }
        row = await db.fetchrow("SELECT dedupe_name, version FROM company")
        assert tuple(row) == ("muller sohne", 1)
        # The migrations analyze what they add: without statistics the planner takes
        # `deleted_at IS NULL` (on every read) for 0.5% of the rows and picks bad plans.
        analyzed = await db.fetch(
            "SELECT tablename, attname FROM pg_stats WHERE (tablename, attname) IN "
            "(('company', 'deleted_at'), ('company', 'dedupe_name'), ('contact_phone', 'e164'))"
        )
        assert {(r["tablename"], r["attname"]) for r in analyzed} == {
            ("company", "deleted_at"),
            ("company", "dedupe_name"),
            ("contact_phone", "e164"),
        }
    finally:
        await db.close()


async def test_a_draft_of_a_linked_lexware_contact_finds_the_linked_record(
    api: Api, servers: Servers
) -> None:
    """One Lexware contact links to at most one company, so the rule matches a draft (an
    import about to create a second record of it) and not two saved companies."""
    linked = await company(api, "Verknüpft GmbH")
    lexware_id = "6a3f5a26-8e1c-4b55-9a5e-0d5b8a3c1f20"
    connection = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    try:
        await connection.execute(
            "UPDATE company SET lexware_contact_id = $1 WHERE id = $2",
            lexware_id,
            linked,
        )
    finally:
        await connection.close()
    data = await api.data(BY_COMPANY_DRAFT, {"d": {"lexwareContactId": lexware_id}})
    [found] = data["duplicateCandidates"]
    assert found["record"]["id"] == linked and found["strength"] == "STRONG"
    assert found["matches"] == [
        {"rule": "LEXWARE_CONTACT", "value": lexware_id, "candidateValue": lexware_id,
         "similarity": None}
    ]  # fmt: skip
    assert await candidates_of(api, linked) == []  # the record itself is no candidate


async def test_reject_duplicates_on_contacts(api: Api) -> None:
    anna = await contact(api, "Schmidt", firstName="Anna", emails=[{"email": "anna@acme.de"}])
    result = await api(
        CREATE_CONTACT,
        {"i": {"lastName": "S", "emails": [{"email": "Anna@Acme.de"}], "rejectDuplicates": True}},
    )
    assert error_codes(result) == ["CONFLICT"]
    [named] = result["errors"][0]["extensions"]["duplicates"]
    assert (named["id"], named["name"], named["rules"]) == (anna, "Anna Schmidt", ["EMAIL"])
    assert (await api.data("{ contacts { totalCount } }"))["contacts"]["totalCount"] == 1


async def test_a_trashed_record_is_no_candidate_nor_in_the_report_until_restored(
    api: Api,
) -> None:
    """Trashed records are gone from every list: not a candidate (by id or by draft), not half
    of a pair in the report (a shared phone is read from the phones, whose owner is trashed);
    restored, they are back."""
    a = await company(api, "Paar Eins", phones=[{"phone": "030 1234567"}])
    b = await company(api, "Paar Zwei", phones=[{"phone": "+49 30 1234567"}])
    draft = {"phones": ["030 1234567"]}
    assert [c["record"]["id"] for c in await candidates_of(api, a)] == [b]
    await api.data("mutation($id: ID!) { deleteCompany(id: $id) }", {"id": b})
    assert await candidates_of(api, a) == []
    by_draft = await api.data(BY_COMPANY_DRAFT, {"d": draft})
    assert [c["record"]["id"] for c in by_draft["duplicateCandidates"]] == [a]
    report_page = (await api.data(REPORT, {"first": 10}))["duplicates"]
    assert (report_page["edges"], report_page["totalCount"]) == ([], 0)
    await api.data("mutation($id: ID!) { restoreCompany(id: $id) { id } }", {"id": b})
    assert [c["record"]["id"] for c in await candidates_of(api, a)] == [b]
    assert (await api.data(REPORT, {"first": 10}))["duplicates"]["totalCount"] == 1


async def test_the_compared_keys_of_trashed_records_are_not_read_at_all(
    api: Api, app: Starlette
) -> None:
    """The view's branches leave trashed records out (their own keys, and the e-mails and
    phones they own), so trashed rows never take the places of live candidates under the
    statements' limits (MAX_EXACT, MAX_SIMILAR) and `rejectDuplicates`' few named."""
    live = await company(api, "Lebt GmbH", vatId="DE811907980", emails=[{"email": "a@b.de"}])
    gone = await company(api, "Weg GmbH", vatId="DE811907980", emails=[{"email": "a@b.de"}])
    await api.data("mutation($id: ID!) { deleteCompany(id: $id) }", {"id": gone})
    async with (await scope_of(api, app)).reading() as reads:
        rows = await reads.execute_rows(
            sa.select(queries.RECORD, queries.RULE).where(
                queries.KEY.in_(["DE811907980", "a@b.de"])
            )
        )
        found = {(str(record), rule) for record, rule in rows}
    assert found == {(live, "VAT_ID"), (live, "EMAIL")}
