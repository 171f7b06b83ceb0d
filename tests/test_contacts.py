"""Contacts, and e-mail addresses and phone numbers of contacts and companies."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from app.data import row_statements
from tests.conftest import Api, StatementCounter, error_codes, error_fields
from tests.test_events import events

FIELDS = """id salutation title firstName lastName position department companyId status
linkedinUrl birthday source tags version
emails { id email type isPrimary } phones { id phone type isPrimary } company { id name }"""
CREATE = f"mutation($i: CreateContactInput!) {{ createContact(input: $i) {{ {FIELDS} }} }}"
UPDATE = f"""mutation($id: ID!, $i: UpdateContactInput!, $v: Int) {{
  updateContact(id: $id, input: $i, expectedVersion: $v) {{ {FIELDS} }} }}"""
GET = f"query($id: ID!) {{ contact(id: $id) {{ {FIELDS} }} }}"
LIST = """query($filter: ContactFilter, $order: ContactOrder, $first: Int, $after: String) {
  contacts(filter: $filter, orderBy: $order, first: $first, after: $after) {
    totalCount edges { node { lastName } } pageInfo { hasNextPage endCursor } } }"""
COMPANY = "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }"


async def contact(api: Api, **fields: Any) -> dict[str, Any]:
    data = await api.data(CREATE, {"i": {"lastName": "Schmidt", **fields}})
    created: dict[str, Any] = data["createContact"]
    return created


async def company(api: Api, name: str = "Muster GmbH", **fields: Any) -> str:
    data = await api.data(COMPANY, {"i": {"name": name, **fields}})
    company_id: str = data["createCompany"]["id"]
    return company_id


async def test_create_a_contact_with_everything(api: Api) -> None:
    company_id = await company(api)
    created = await contact(
        api,
        salutation="Frau",
        title="Dr.",
        firstName="Anna",
        position="Leiterin Einkauf",
        department="Einkauf",
        companyId=company_id,
        linkedinUrl="linkedin.com/in/anna-schmidt",
        birthday="1985-04-12",
        source="TRADE_FAIR",
        tags=["Entscheider"],
        emails=[{"email": "anna@muster.de"}, {"email": "a.schmidt@gmx.de", "type": "PERSONAL"}],
        phones=[
            {"phone": "+49 711 123456-0", "isPrimary": True},
            {"phone": "0171 5551234", "type": "MOBILE"},
        ],
    )
    assert created["linkedinUrl"] == "https://linkedin.com/in/anna-schmidt"
    assert created["company"] == {"id": company_id, "name": "Muster GmbH"}
    assert [(e["email"], e["isPrimary"]) for e in created["emails"]] == [
        ("anna@muster.de", True),
        ("a.schmidt@gmx.de", False),
    ]
    assert [p["isPrimary"] for p in created["phones"]] == [True, False]
    assert (await api.data(GET, {"id": created["id"]}))["contact"] == created


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"lastName": ""}, "lastName"),
        ({"linkedinUrl": "https://www.xing.com/profile/anna"}, "linkedinUrl"),
        ({"linkedinUrl": "https://linkedin.com/company/muster"}, "linkedinUrl"),
        # a day after tomorrow: the cases are built at collection, and a run crossing midnight
        # (or the server's day in another time zone) turned "tomorrow" into today
        ({"birthday": (date.today() + timedelta(days=2)).isoformat()}, "birthday"),
        ({"firstName": "x" * 101}, "firstName"),
        ({"emails": [{"email": "anna@"}]}, "emails[0].email"),
        ({"emails": [{"email": "a@x.de"}, {"email": "A@X.DE"}]}, "emails[1].email"),
        (
            {
                "emails": [
                    {"email": "a@x.de", "isPrimary": True},
                    {"email": "b@x.de", "isPrimary": True},
                ]
            },
            "emails",
        ),
        ({"phones": [{"phone": "call me"}]}, "phones[0].phone"),
    ],
)
async def test_invalid_contact_is_refused_and_nothing_written(
    api: Api, fields: dict[str, Any], bad: str
) -> None:
    result = await api(CREATE, {"i": {"lastName": "Schmidt", **fields}})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert bad in error_fields(result)
    assert (await api.data("{ contacts { totalCount } }"))["contacts"]["totalCount"] == 0


async def test_another_tenants_company_cannot_be_linked(api: Api, tenant: str) -> None:
    foreign = await company(api)
    result = await api(CREATE, {"i": {"lastName": "X", "companyId": foreign}}, tenant=f"{tenant}-b")
    assert error_codes(result) == ["NOT_FOUND"]


async def test_update_replaces_lists_only_when_sent(api: Api) -> None:
    created = await contact(
        api, emails=[{"email": "old@x.de"}], phones=[{"phone": "+49 30 1234567"}]
    )
    renamed = (await api.data(UPDATE, {"id": created["id"], "i": {"position": "CEO"}}))[
        "updateContact"
    ]
    assert renamed["emails"] == created["emails"] and renamed["phones"] == created["phones"]
    replaced = (
        await api.data(UPDATE, {"id": created["id"], "i": {"emails": [{"email": "new@x.de"}]}})
    )["updateContact"]
    assert [e["email"] for e in replaced["emails"]] == ["new@x.de"]
    assert replaced["phones"] == created["phones"]
    assert replaced["version"] == renamed["version"] + 1
    cleared = (await api.data(UPDATE, {"id": created["id"], "i": {"emails": []}}))["updateContact"]
    assert cleared["emails"] == []


async def test_bad_list_in_update_changes_nothing(api: Api) -> None:
    created = await contact(api, emails=[{"email": "keep@x.de"}])
    result = await api(
        UPDATE, {"id": created["id"], "i": {"position": "X", "emails": [{"email": "no"}]}}
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert (await api.data(GET, {"id": created["id"]}))["contact"] == created


async def test_primary_email_switches_and_follows_removal(api: Api) -> None:
    created = await contact(api)
    add = """mutation($id: ID!, $e: EmailInput!) {
      addContactEmail(contactId: $id, input: $e) { email { id isPrimary } } }"""
    first = (await api.data(add, {"id": created["id"], "e": {"email": "eins@x.de"}}))[
        "addContactEmail"
    ]["email"]
    second = (await api.data(add, {"id": created["id"], "e": {"email": "zwei@x.de"}}))[
        "addContactEmail"
    ]["email"]
    assert (first["isPrimary"], second["isPrimary"]) == (True, False)
    third = (
        await api.data(add, {"id": created["id"], "e": {"email": "drei@x.de", "isPrimary": True}})
    )["addContactEmail"]["email"]
    emails = (await api.data(GET, {"id": created["id"]}))["contact"]["emails"]
    assert [(e["email"], e["isPrimary"]) for e in emails] == [
        ("drei@x.de", True),
        ("eins@x.de", False),
        ("zwei@x.de", False),
    ]
    await api.data(
        "mutation($id: ID!) { setPrimaryEmail(id: $id) { email { id } } }", {"id": second["id"]}
    )
    await api.data(
        "mutation($id: ID!) { removeEmail(id: $id) { removedId } }", {"id": second["id"]}
    )
    emails = (await api.data(GET, {"id": created["id"]}))["contact"]["emails"]
    assert [(e["email"], e["isPrimary"]) for e in emails] == [
        ("eins@x.de", True),
        ("drei@x.de", False),
    ]
    assert third["id"] in {e["id"] for e in emails}


async def test_duplicate_value_for_one_owner_is_refused(api: Api) -> None:
    created = await contact(api, phones=[{"phone": "+49 30 123"}])
    add = (
        "mutation($id: ID!, $p: PhoneInput!) {"
        " addContactPhone(contactId: $id, input: $p) { phone { id } } }"
    )
    result = await api(add, {"id": created["id"], "p": {"phone": "+49 30 123"}})
    assert error_codes(result) == ["CONFLICT"]
    other = await contact(api, lastName="Andere")
    assert "errors" not in await api(add, {"id": other["id"], "p": {"phone": "+49 30 123"}})


async def test_company_emails_and_phones(api: Api) -> None:
    company_id = await company(api, emails=[{"email": "info@muster.de"}])
    add = """mutation($id: ID!, $e: EmailInput!) {
      addCompanyEmail(companyId: $id, input: $e) { email { isPrimary } } }"""
    assert (await api.data(add, {"id": company_id, "e": {"email": "vertrieb@muster.de"}}))[
        "addCompanyEmail"
    ] == {"email": {"isPrimary": False}}
    data = await api.data(
        "query($id: ID!) { company(id: $id) { emails { email isPrimary } } }", {"id": company_id}
    )
    assert data["company"]["emails"] == [
        {"email": "info@muster.de", "isPrimary": True},
        {"email": "vertrieb@muster.de", "isPrimary": False},
    ]


async def test_email_of_another_tenant_cannot_be_touched(api: Api, tenant: str) -> None:
    created = await contact(api, emails=[{"email": "a@x.de"}])
    email_id = created["emails"][0]["id"]
    for mutation in (
        "removeEmail(id: $id) { removedId }",
        "setPrimaryEmail(id: $id) { email { id } }",
    ):
        result = await api(
            f"mutation($id: ID!) {{ {mutation} }}", {"id": email_id}, tenant=f"{tenant}-z"
        )
        assert error_codes(result) == ["NOT_FOUND"]
    add = 'mutation($id: ID!) { addContactEmail(contactId: $id, input: {email: "b@x.de"}) { email { id } } }'
    assert error_codes(await api(add, {"id": created["id"]}, tenant=f"{tenant}-z")) == ["NOT_FOUND"]
    assert (await api.data(GET, {"id": created["id"]}))["contact"]["emails"] == created["emails"]


async def test_filters_search_names_emails_and_phones(api: Api) -> None:
    company_id = await company(api)
    await contact(
        api, firstName="Anna", lastName="Schmidt", companyId=company_id, department="Einkauf"
    )
    await contact(
        api, firstName="Bernd", lastName="Weber", emails=[{"email": "bw@schmidt-partner.de"}]
    )
    await contact(
        api,
        firstName="Clara",
        lastName="Meyer",
        phones=[{"phone": "+49 89 4711"}],
        tags=["VIP"],
        source="REFERRAL",
    )

    async def names(filter_: dict[str, Any]) -> list[str]:
        data = await api.data(LIST, {"filter": filter_})
        return [e["node"]["lastName"] for e in data["contacts"]["edges"]]

    assert await names({"search": "schmidt"}) == ["Schmidt"]  # names; addresses by address:
    assert await names({"search": "schmidt-partner.de"}) == ["Weber"]
    assert await names({"search": "bw@schmidt"}) == ["Weber"]
    assert await names({"search": "4711"}) == ["Meyer"]
    assert await names({"companyId": company_id}) == ["Schmidt"]
    assert await names({"tag": "VIP", "source": ["REFERRAL"]}) == ["Meyer"]
    assert await names({"department": "einkauf"}) == ["Schmidt"]


async def test_contacts_page_by_name(api: Api) -> None:
    for name in ("Zander", "Adler", "Meier", "becker"):
        await contact(api, lastName=name)
    first = await api.data(LIST, {"first": 2})
    rest = await api.data(LIST, {"after": first["contacts"]["pageInfo"]["endCursor"]})
    listed = [e["node"]["lastName"] for e in first["contacts"]["edges"] + rest["contacts"]["edges"]]
    assert listed == ["Adler", "becker", "Meier", "Zander"]


async def test_deleting_a_company_keeps_its_contacts(api: Api) -> None:
    company_id = await company(api)
    created = await contact(api, companyId=company_id)
    await api.data("mutation($id: ID!) { deleteCompany(id: $id) }", {"id": company_id})
    fetched = (await api.data(GET, {"id": created["id"]}))["contact"]
    assert (fetched["companyId"], fetched["company"]) == (None, None)


async def test_company_contacts_are_limited_per_company(api: Api) -> None:
    companies = [await company(api, f"Firma {i}") for i in range(2)]
    for index in range(3):
        for company_id in companies:
            await contact(api, lastName=f"Person {index}", companyId=company_id)
    data = await api.data(
        "{ companies { edges { node { contacts(first: 2) { edges { node { lastName } } } } } } }"
    )
    for edge in data["companies"]["edges"]:
        people = [c["node"]["lastName"] for c in edge["node"]["contacts"]["edges"]]
        assert people == ["Person 0", "Person 1"]
    result = await api(
        "{ companies { edges { node { contacts(first: 500) { edges { node { id } } } } } } }"
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]


DEEP = """query($first: Int) { companies(first: $first) { totalCount edges { node {
  name industry { name } emails { email } phones { phone }
  contacts { edges { node { lastName emails { email } phones { phone } company { name } } } }
} } } }"""


async def test_nested_page_costs_the_same_statements_at_any_size(
    api: Api, sql: StatementCounter
) -> None:
    branch = await api.data('mutation { createIndustry(input: {name: "Handel"}) { id } }')
    industry_id = branch["createIndustry"]["id"]
    for index in range(20):
        company_id = await company(
            api, f"Firma {index:02}", industryId=industry_id, emails=[{"email": f"i@f{index}.de"}]
        )
        await contact(api, lastName=f"K{index}", companyId=company_id, emails=[{"email": "k@x.de"}])
    counts = {}
    for first in (2, 20):
        sql.statements.clear()
        data = await api.data(DEEP, {"first": first})
        assert len(data["companies"]["edges"]) == first
        people = [e["node"]["contacts"]["edges"][0]["node"] for e in data["companies"]["edges"]]
        assert all(person["company"] for person in people)
        counts[first] = sql.count
    # Root page, count, then one per relation: industry, company emails, company phones,
    # contacts, contact emails, contact phones, contact company.
    assert counts == {2: 9, 20: 9}, sql.statements


async def test_stale_contact_version_is_a_conflict_and_changes_nothing(api: Api) -> None:
    created = await contact(api)
    await api.data(UPDATE, {"id": created["id"], "i": {"position": "Einkauf"}, "v": 1})
    stale = await api(UPDATE, {"id": created["id"], "i": {"position": "Vertrieb"}, "v": 1})
    assert error_codes(stale) == ["CONFLICT"]
    assert (await api.data(GET, {"id": created["id"]}))["contact"]["version"] == 2


async def test_a_stale_edit_is_a_conflict_before_anything_else_it_gets_wrong(api: Api) -> None:
    """The version is compared before the write: a stale edit that would also break a
    constraint (an unknown company) is a CONFLICT, with the current version."""
    created = await contact(api)
    await api.data(UPDATE, {"id": created["id"], "i": {"position": "Einkauf"}, "v": 1})
    unknown = "00000000-0000-4000-8000-000000000000"
    stale = await api(UPDATE, {"id": created["id"], "i": {"companyId": unknown}, "v": 1})
    assert error_codes(stale) == ["CONFLICT"]
    assert stale["errors"][0]["extensions"]["currentVersion"] == 2
    missing = await api(UPDATE, {"id": unknown, "i": {"position": "X"}, "v": 1})
    assert error_codes(missing) == ["NOT_FOUND"]


async def test_an_update_reads_and_writes_its_row_in_one_statement(
    api: Api, sql: StatementCounter
) -> None:
    """The old values (for the event) come back from the UPDATE itself, which reads them from
    the row it locks first: the row and the event are two statements."""
    created = await contact(api, position="Einkauf", department="Nord")
    lean = """mutation($id: ID!, $i: UpdateContactInput!) {
      updateContact(id: $id, input: $i) { position department version } }"""
    sql.statements.clear()
    changes = {"position": "Vertrieb", "department": "Süd"}
    updated = await api.data(lean, {"id": created["id"], "i": changes})
    assert updated["updateContact"] == {**changes, "version": 2}
    assert sql.count == 2, sql.statements
    stored = await events(api, entityId=created["id"], types=["crm.contact.updated"])
    assert [e["changes"] for e in stored] == [
        {"position": ["Einkauf", "Vertrieb"], "department": ["Nord", "Süd"]}
    ]


async def test_updates_of_the_same_fields_share_one_statement_and_stay_in_their_tenant(
    api: Api, tenant: str
) -> None:
    """The row UPDATE is built once per set of changed columns and run for any tenant: each
    run changes its own tenant's contact only, and another tenant's id is NOT_FOUND."""
    other = f"{tenant}-b"
    mine = await contact(api, position="A")
    theirs = (await api.data(CREATE, {"i": {"lastName": "Weber"}}, tenant=other))["createContact"]
    before = row_statements.update_statement_for.cache_info()
    for target, who in ((mine, tenant), (theirs, other), (mine, tenant)):
        changes = {"position": f"P-{who}", "department": f"D-{who}"}
        await api.data(UPDATE, {"id": target["id"], "i": changes}, tenant=who)
    after = row_statements.update_statement_for.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) in ((0, 3), (1, 2))
    foreign = await api(UPDATE, {"id": theirs["id"], "i": {"position": "X"}}, tenant=tenant)
    assert error_codes(foreign) == ["NOT_FOUND"]
    assert (await api.data(GET, {"id": mine["id"]}))["contact"]["position"] == f"P-{tenant}"
    their_row = (await api.data(GET, {"id": theirs["id"]}, tenant=other))["contact"]
    assert (their_row["position"], their_row["version"]) == (f"P-{other}", 2)
