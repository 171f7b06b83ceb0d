"""Relay's global object identification (resolvers/nodes, app/services/nodes): `node(id)` and
`nodes(ids)` answer any record by its plain uuid, whatever its type; another tenant's id, a
trashed record's and an unknown one answer alike; a merged id answers its survivor; the type
is found in one statement, the rows come one statement per type; the compiled path leaves
both fields to the executor."""

from __future__ import annotations

import re
import uuid
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from app.data.tenancy import TenantScope
from app.services.nodes.queries import IDS, locate_statement
from app.services.nodes.rules import KINDS, MAX_IDS
from models import LexwareVoucher
from resolvers.nodes.queries import GRAPHQL_TYPES
from tests.conftest import Api, Servers, StatementCounter, _asyncpg_dsn, error_codes, error_fields
from tests.factories import add_row, new_scope
from tests.test_identifiers import scope_of
from tests.test_search import _explained

NODE = """query($id: ID!) { node(id: $id) { __typename id } }"""
NODES = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"""
# Relay's refetch query, as its compiler writes it for a refetchable fragment on Company
REFETCH = """query($id: ID!) { node(id: $id) { __typename id ... on Company { name } } }"""


async def _created(api: Api, mutation: str, variables: dict[str, Any] | None = None) -> Any:
    (created,) = (await api.data(mutation, variables)).values()
    return created


async def _every_kind(api: Api, app: Starlette) -> dict[str, str]:
    """One record of each type that implements Node, by type name: its id."""
    ids: dict[str, str] = {}
    industry = await _created(api, 'mutation { createIndustry(input: {name: "Handel"}) { id } }')
    account = await _created(api, 'mutation { createAccountType(input: {name: "Kunde"}) { id } }')
    kind = await _created(
        api, 'mutation { createRelationshipType(input: {name: "Tochter"}) { id } }'
    )
    company = await _created(
        api,
        """mutation($i: ID!, $a: ID!) { createCompany(input: {name: "Müller GmbH",
          industryId: $i, accountTypeId: $a, emails: [{email: "info@mueller.de"}],
          phones: [{phone: "+49 711 1234560"}]}) { id emails { id } phones { id } } }""",
        {"i": industry["id"], "a": account["id"]},
    )
    other = await _created(api, 'mutation { createCompany(input: {name: "Schmidt AG"}) { id } }')
    pipeline = await _created(
        api,
        'mutation { createPipeline(input: {name: "Vertrieb", stages: [{name: "Neu"}]}) '
        "{ id stages { id } } }",
    )
    contact = await _created(
        api,
        'mutation($c: ID!) { createContact(input: {lastName: "Weber", companyId: $c}) { id } }',
        {"c": company["id"]},
    )
    deal = await _created(
        api,
        """mutation($c: ID!, $p: ID!) { createDeal(input: {title: "Fräsen", companyId: $c,
          pipelineId: $p}) { id } }""",
        {"c": company["id"], "p": pipeline["id"]},
    )
    activity = await _created(
        api,
        """mutation($c: ID!) { createActivity(input: {type: NOTE, subject: "Anruf",
          companyId: $c}) { id } }""",
        {"c": company["id"]},
    )
    contract = await _created(
        api,
        'mutation($c: ID!) { createContract(input: {companyId: $c, title: "Wartung"}) { id } }',
        {"c": company["id"]},
    )
    # its id read from the root list: the mutation's result type is being changed to a
    # payload (issue 24, item 2), and `__typename` is what both shapes have
    await api.data(
        """mutation($f: ID!, $t: ID!, $k: ID!) { createCompanyRelationship(fromCompanyId: $f,
          toCompanyId: $t, typeId: $k) { __typename } }""",
        {"f": company["id"], "t": other["id"], "k": kind["id"]},
    )
    listed = await api.data("{ companyRelationships(first: 1) { edges { node { id } } } }")
    relationship = listed["companyRelationships"]["edges"][0]["node"]
    me = await api.data("{ me { user { id } } }")
    scope = await scope_of(api, app)
    voucher = await add_row(
        scope,
        LexwareVoucher,
        lexware_voucher_id=uuid.uuid4(),
        voucher_type="invoice",
        voucher_status="open",
        company_id=uuid.UUID(company["id"]),
    )
    ids.update(
        Company=company["id"],
        Contact=contact["id"],
        Deal=deal["id"],
        Activity=activity["id"],
        Contract=contract["id"],
        Pipeline=pipeline["id"],
        Stage=pipeline["stages"][0]["id"],
        CompanyRelationship=relationship["id"],
        Email=company["emails"][0]["id"],
        Phone=company["phones"][0]["id"],
        User=me["me"]["user"]["id"],
        Industry=industry["id"],
        AccountType=account["id"],
        RelationshipType=kind["id"],
        LexwareVoucher=str(voucher),
    )
    return ids


async def test_node_answers_every_type_that_implements_it(api: Api, app: Starlette) -> None:
    ids = await _every_kind(api, app)
    # every kind of record the server can locate is one GraphQL type, and each is here
    assert set(GRAPHQL_TYPES) == set(KINDS)
    assert {t.__name__ for t in GRAPHQL_TYPES.values()} == set(ids)
    for type_name, record_id in ids.items():
        found = await api.data(NODE, {"id": record_id})
        assert found["node"] == {"__typename": type_name, "id": record_id}
    listed = await api.data(NODES, {"ids": list(ids.values())})
    assert listed["nodes"] == [{"__typename": t, "id": i} for t, i in ids.items()]


async def test_relays_refetch_query_reads_the_fields_of_the_type(api: Api, app: Starlette) -> None:
    ids = await _every_kind(api, app)
    result = await api.data(REFETCH, {"id": ids["Company"]})
    assert result == {
        "node": {"__typename": "Company", "id": ids["Company"], "name": "Müller GmbH"}
    }
    # another type's fragment reads nothing of a company, and the company's nothing of it
    deep = """query($id: ID!) { node(id: $id) { id ... on Deal { title company { name } }
      ... on Company { name industry { name } emails { email } } } }"""
    assert (await api.data(deep, {"id": ids["Deal"]}))["node"] == {
        "id": ids["Deal"],
        "title": "Fräsen",
        "company": {"name": "Müller GmbH"},
    }
    company = (await api.data(deep, {"id": ids["Company"]}))["node"]
    assert company["industry"] == {"name": "Handel"}
    assert company["emails"] == [{"email": "info@mueller.de"}]


async def test_nodes_keeps_the_order_of_the_ids_with_null_for_unknown_ones(
    api: Api, app: Starlette
) -> None:
    ids = await _every_kind(api, app)
    unknown = str(uuid.uuid4())
    asked = [ids["Deal"], unknown, ids["Company"], ids["Deal"], ids["Email"]]
    result = await api.data(NODES, {"ids": asked})
    assert result["nodes"] == [
        {"__typename": "Deal", "id": ids["Deal"]},
        None,
        {"__typename": "Company", "id": ids["Company"]},
        {"__typename": "Deal", "id": ids["Deal"]},
        {"__typename": "Email", "id": ids["Email"]},
    ]
    assert (await api.data(NODES, {"ids": []}))["nodes"] == []


async def test_another_tenants_id_answers_exactly_like_an_unknown_one(
    api: Api, app: Starlette
) -> None:
    """Byte for byte: the response tells no id of another tenant from one that never was."""
    ids = await _every_kind(api, app)
    stranger = api.token(tenant=f"{api.tenant}-x")
    await api.data("{ me { user { id } } }", token=stranger)  # the other tenant exists
    for type_name, record_id in ids.items():
        for document, variables in (
            (REFETCH, {"id": record_id}),
            (NODES, {"ids": [record_id]}),
        ):
            theirs = await api.post({"query": document, "variables": variables}, token=stranger)
            unknown = {key: str(uuid.uuid4()) if key == "id" else [str(uuid.uuid4())]
                       for key in variables}  # fmt: skip
            nothing = await api.post({"query": document, "variables": unknown}, token=stranger)
            assert theirs.status_code == nothing.status_code == 200, type_name
            assert theirs.content == nothing.content, type_name
            assert b'"errors"' not in theirs.content


async def test_a_trashed_record_answers_like_an_unknown_id_until_restored(
    api: Api, app: Starlette
) -> None:
    """company(id:) of a trashed company is NOT_FOUND, as for an unknown id; node answers
    null for both (and for the e-mail and phone that are in the trash with it), the same
    bytes; a restore brings them back."""
    ids = await _every_kind(api, app)
    parts = [ids["Company"], ids["Email"], ids["Phone"], ids["Contract"]]
    await api.data("mutation($id: ID!) { deleteCompany(id: $id) }", {"id": ids["Company"]})
    typed = await api("query($id: ID!) { company(id: $id) { id } }", {"id": ids["Company"]})
    assert error_codes(typed) == ["NOT_FOUND"]
    for record_id in parts:
        trashed = await api.post({"query": NODE, "variables": {"id": record_id}}, api.token())
        unknown = await api.post(
            {"query": NODE, "variables": {"id": str(uuid.uuid4())}}, api.token()
        )
        assert trashed.content == unknown.content
        assert trashed.json()["data"] == {"node": None}
    assert (await api.data(NODES, {"ids": parts}))["nodes"] == [None] * 4
    # the company's contact and deal are records of their own, not in the trash
    assert (await api.data(NODE, {"id": ids["Deal"]}))["node"] is not None
    await api.data("mutation($id: ID!) { restoreCompany(id: $id) { id } }", {"id": ids["Company"]})
    restored = await api.data(NODES, {"ids": parts})
    assert [n["__typename"] for n in restored["nodes"]] == ["Company", "Email", "Phone", "Contract"]


async def test_a_merged_id_answers_its_survivor(api: Api) -> None:
    """As company(id: mergedId) does: links held elsewhere (and a Relay store's stale id)
    still find the record, under the survivor's own id."""
    survivor = await _created(
        api, 'mutation { createCompany(input: {name: "Bau AG"}) { id version } }'
    )
    merged = await _created(api, 'mutation { createCompany(input: {name: "Bau AG."}) { id } }')
    person = await _created(
        api, 'mutation { createContact(input: {lastName: "Kern"}) { id version } }'
    )
    twin = await _created(api, 'mutation { createContact(input: {lastName: "Kern"}) { id } }')
    await api.data(
        """mutation($s: ID!, $m: [ID!]!, $v: Int!) {
          mergeCompanies(survivorId: $s, mergedIds: $m, expectedVersion: $v) { mergedIds } }""",
        {"s": survivor["id"], "m": [merged["id"]], "v": survivor["version"]},
    )
    await api.data(
        """mutation($s: ID!, $m: [ID!]!, $v: Int!) {
          mergeContacts(survivorId: $s, mergedIds: $m, expectedVersion: $v) { mergedIds } }""",
        {"s": person["id"], "m": [twin["id"]], "v": person["version"]},
    )
    typed = await api.data("query($id: ID!) { company(id: $id) { id } }", {"id": merged["id"]})
    assert typed["company"]["id"] == survivor["id"]
    assert (await api.data(REFETCH, {"id": merged["id"]}))["node"] == {
        "__typename": "Company",
        "id": survivor["id"],
        "name": "Bau AG",
    }
    both = await api.data(NODES, {"ids": [twin["id"], merged["id"], survivor["id"]]})
    assert both["nodes"] == [
        {"__typename": "Contact", "id": person["id"]},
        {"__typename": "Company", "id": survivor["id"]},
        {"__typename": "Company", "id": survivor["id"]},
    ]
    # a survivor in the trash: its merged ids answer null, as company(id:) answers NOT_FOUND
    await api.data("mutation($id: ID!) { deleteCompany(id: $id) }", {"id": survivor["id"]})
    assert (await api.data(NODE, {"id": merged["id"]}))["node"] is None
    gone = await api("query($id: ID!) { company(id: $id) { id } }", {"id": merged["id"]})
    assert error_codes(gone) == ["NOT_FOUND"]


async def test_a_malformed_id_is_bad_user_input_as_for_company(api: Api) -> None:
    typed = await api('{ company(id: "nope") { id } }')
    assert error_codes(typed) == ["BAD_USER_INPUT"] and error_fields(typed) == {"id"}
    single = await api('{ node(id: "nope") { id } }')
    assert error_codes(single) == ["BAD_USER_INPUT"] and error_fields(single) == {"id"}
    assert single["data"] == {"node": None}
    listed = await api(NODES, {"ids": [str(uuid.uuid4()), "nope"]})
    assert error_codes(listed) == ["BAD_USER_INPUT"] and error_fields(listed) == {"ids[1]"}


async def test_nodes_takes_at_most_a_hundred_ids(api: Api) -> None:
    company = await _created(api, 'mutation { createCompany(input: {name: "Firma"}) { id } }')
    many = [company["id"]] + [str(uuid.uuid4()) for _ in range(MAX_IDS - 1)]
    result = await api.data(NODES, {"ids": many})
    assert len(result["nodes"]) == MAX_IDS and result["nodes"][0]["id"] == company["id"]
    refused = await api(NODES, {"ids": [*many, str(uuid.uuid4())]})
    assert error_codes(refused) == ["BAD_USER_INPUT"] and error_fields(refused) == {"ids"}
    assert "at most 100 ids" in refused["errors"][0]["message"]


async def test_nodes_of_three_types_cost_one_statement_to_locate_and_one_per_type(
    api: Api, app: Starlette, sql: StatementCounter, compiled_sql: StatementCounter
) -> None:
    """The compiled path declines node and nodes (it runs nothing: the executor answers)."""
    ids = await _every_kind(api, app)
    extra = await _created(api, 'mutation { createCompany(input: {name: "Zweite"}) { id } }')
    document = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
      ... on Company { name } ... on Contact { lastName } ... on Deal { title } } }"""
    asked = [ids["Company"], ids["Contact"], ids["Deal"], extra["id"], str(uuid.uuid4())]
    sql.statements.clear()
    compiled_sql.statements.clear()
    result = await api.data(document, {"ids": asked})
    assert [n and n["__typename"] for n in result["nodes"]] == [
        "Company", "Contact", "Deal", "Company", None,
    ]  # fmt: skip
    assert sql.count == 4, sql.statements  # locate, then companies, contacts, deals
    assert compiled_sql.count == 0
    # two node fields of one document share the statement that locates them
    sql.statements.clear()
    both = await api.data(
        "query($a: ID!, $b: ID!) { a: node(id: $a) { id } b: node(id: $b) { id } }",
        {"a": ids["Company"], "b": ids["Deal"]},
    )
    assert both == {"a": {"id": ids["Company"]}, "b": {"id": ids["Deal"]}}
    assert sql.count == 3, sql.statements


# Rows enough that a tenant's index and a filter cost more than a key lookup: companies,
# contacts, activities, an e-mail per company and a phone per contact.
MANY = (
    "INSERT INTO company (tenant_id, name) SELECT $1, 'Firma ' || g FROM generate_series(1, $2) g",
    "INSERT INTO contact (tenant_id, last_name) "
    "SELECT $1, 'Person ' || g FROM generate_series(1, $2) g",
    "INSERT INTO activity (tenant_id, type, subject) "
    "SELECT $1, 'NOTE', 'Notiz ' || g FROM generate_series(1, $2) g",
    "INSERT INTO contact_email (tenant_id, company_id, email) "
    "SELECT $1, id, md5(id::text) || '@x.de' FROM company WHERE tenant_id = $1 AND $2 > 0",
    "INSERT INTO contact_phone (tenant_id, contact_id, phone) "
    "SELECT $1, id, '0711 ' || (1000000 + row_number() OVER ()) FROM contact "
    "WHERE tenant_id = $1 AND $2 > 0",
)
LOOKED_UP = ("company", "contact", "activity", "contact_email", "contact_phone")


async def test_locating_an_id_is_an_index_lookup_in_every_table_as_crm_tenant(
    sessions: async_sessionmaker[AsyncSession], servers: Servers
) -> None:
    """Under row-level security only leakproof conditions can be index conditions: uuid
    equality is, so a branch reads its table by the id (with sequential scans off, a branch
    no index could serve would still show as a Seq Scan), and the e-mail's and phone's
    company or contact is looked up by its key, not read whole. The rows are removed again
    (and the statistics refreshed): other tests' plans must not see them."""
    scope = await new_scope(sessions)
    connection = await asyncpg.connect(_asyncpg_dsn(servers.database_url))
    try:
        for statement in MANY:
            await connection.execute(statement, scope.tenant_id, 3000)
        await connection.execute(f"ANALYZE {', '.join(LOOKED_UP)}")
        plan = await _locating_plan(scope)
    finally:
        for table in ("company", "contact", "activity"):  # e-mails and phones cascade
            await connection.execute(f"DELETE FROM {table} WHERE tenant_id = $1", scope.tenant_id)
        await connection.execute(f"ANALYZE {', '.join(LOOKED_UP)}")
        await connection.close()
    assert "Seq Scan" not in plan, plan
    for table in [*KINDS, "merged_record"]:
        assert f" on {table} " in plan or f' on "{table}" ' in plan, (table, plan)
    scans = _scans(plan)
    for table in LOOKED_UP:
        assert any(re.search(r"\bid = ANY", cond) for cond in scans[table]), (table, plan)
    # the owners of e-mails and phones: by their key, per row found (not a hash of them all)
    assert any("id = contact_email.company_id" in c for c in scans["company"]), plan
    assert any("id = contact_phone.contact_id" in c for c in scans["contact"]), plan


async def _locating_plan(scope: TenantScope) -> str:
    statement = locate_statement().params({IDS: [uuid.uuid4(), uuid.uuid4(), uuid.uuid4()]})
    async with scope.reading() as reads:
        assert (await reads.execute(sa.text("SELECT current_user"))).scalar() == "crm_tenant"
        await reads.execute(sa.text("SET LOCAL enable_seqscan = off"))
        # literal binds write the ids as a text array: typed here as the parameter is
        sql = re.sub(r"(ARRAY\[[^\]]*\])", r"\1::uuid[]", _explained(statement, scope.tenant_id))
        explained = await reads.execute(sa.text(f"EXPLAIN {sql}"))
        return "\n".join(explained.scalars())


def _scans(plan: str) -> dict[str, list[str]]:
    """Each table's index conditions in a plan, by table (a bitmap scan's are on the index's
    line below its table's)."""
    found: dict[str, list[str]] = {}
    table = None
    for line in plan.splitlines():
        scan = re.search(
            r"(?:Heap Scan|Index Scan using \S+|Index Only Scan using \S+) on \"?(\w+)", line
        )
        if scan:
            table = scan.group(1)
            found.setdefault(table, [])
        elif table is not None and "Index Cond:" in line:
            found[table].append(line)
    return found


async def test_the_query_cost_counts_nodes_by_its_ids(api: Api) -> None:
    company = await _created(api, 'mutation { createCompany(input: {name: "Firma"}) { id } }')
    three = [company["id"], str(uuid.uuid4()), str(uuid.uuid4())]

    async def cost(document: str, variables: dict[str, Any] | None = None) -> int:
        result = await api(document, variables)
        assert "errors" not in result, result
        counted: int = result["extensions"]["cost"]
        return counted

    literal = ", ".join(f'"{i}"' for i in three)
    assert await cost(f"{{ nodes(ids: [{literal}]) {{ id }} }}") == 3
    assert await cost(NODES, {"ids": three}) == 3
    assert await cost(NODES, {"ids": three[:1]}) == 1
    defaulted = f"query($ids: [ID!]! = [{literal}]) {{ nodes(ids: $ids) {{ id }} }}"
    assert await cost(defaulted) == 3
    assert await cost(defaulted, {"ids": three[:2]}) == 2
    # each node is costed with its selection: a company's industry is one object more
    nested = (
        """query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Company { industry { id } } } }"""
    )
    assert await cost(nested, {"ids": three}) == 6
    assert await cost(REFETCH, {"id": company["id"]}) == 1
    # over the cap the resolver refuses; the cost counts at most the cap
    refused = await api(NODES, {"ids": [str(uuid.uuid4()) for _ in range(MAX_IDS + 5)]})
    assert refused["extensions"]["cost"] == MAX_IDS
