"""What the mutations of owners, e-mails and phones, relationships and stages answer: the
records they changed, read after the write, so that a normalized client cache (Apollo's, keyed
by `__typename` and `id`) follows without a refetch. Each test asserts that the answer's
parent record shows the change."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, error_codes
from tests.factories import nodes
from tests.test_deals import deal, pipeline, stage
from tests.test_relationships import company, kind

ME = "{ me { user { id } } }"


async def me(api: Api) -> str:
    user: str = (await api.data(ME))["me"]["user"]["id"]
    return user


async def test_deal_owner_mutations_answer_the_deal_with_its_owners(api: Api) -> None:
    await pipeline(api)
    created = await deal(api, owners=[])
    user = await me(api)
    add = """mutation($d: ID!, $u: ID!) { addDealOwner(dealId: $d, userId: $u, role: MEMBER) {
      __typename id owners { role user { id } } } }"""
    added = (await api.data(add, {"d": created["id"], "u": user}))["addDealOwner"]
    assert added == {
        "__typename": "Deal",
        "id": created["id"],
        "owners": [{"role": "MEMBER", "user": {"id": user}}],
    }
    remove = """mutation($d: ID!, $u: ID!) { removeDealOwner(dealId: $d, userId: $u) {
      id owners { role } } }"""
    removed = (await api.data(remove, {"d": created["id"], "u": user}))["removeDealOwner"]
    assert removed == {"id": created["id"], "owners": []}


EMAILS = "id emails { id email isPrimary }"
ADD_EMAIL = f"""mutation($c: ID!, $e: String!, $p: Boolean!) {{
  addContactEmail(contactId: $c, input: {{email: $e, isPrimary: $p}}) {{
    __typename email {{ id isPrimary }} company {{ id }} contact {{ {EMAILS} }} }} }}"""
PRIMARY_EMAIL = f"""mutation($id: ID!) {{ setPrimaryEmail(id: $id) {{
  email {{ id isPrimary }} contact {{ {EMAILS} }} }} }}"""
REMOVE_EMAIL = f"""mutation($id: ID!) {{ removeEmail(id: $id) {{
  __typename removedId company {{ id }} contact {{ {EMAILS} }} }} }}"""


def listed(record: dict[str, Any], field: str = "emails") -> list[tuple[str, bool]]:
    value = "email" if field == "emails" else "phone"
    return [(item[value], item["isPrimary"]) for item in record[field]]


async def test_email_mutations_answer_the_contact_with_its_emails(api: Api) -> None:
    contact = (await api.data('mutation { createContact(input: {lastName: "Mail"}) { id } }'))[
        "createContact"
    ]
    variables = {"c": contact["id"], "p": False}
    first = (await api.data(ADD_EMAIL, {**variables, "e": "eins@x.de"}))["addContactEmail"]
    assert first["__typename"] == "EmailPayload" and first["company"] is None
    assert first["email"]["isPrimary"] is True
    assert listed(first["contact"]) == [("eins@x.de", True)]
    second = (await api.data(ADD_EMAIL, {**variables, "e": "zwei@x.de"}))["addContactEmail"]
    assert listed(second["contact"]) == [("eins@x.de", True), ("zwei@x.de", False)]

    switched = (await api.data(PRIMARY_EMAIL, {"id": second["email"]["id"]}))["setPrimaryEmail"]
    assert switched["email"] == {"id": second["email"]["id"], "isPrimary": True}
    assert listed(switched["contact"]) == [("zwei@x.de", True), ("eins@x.de", False)]

    removed = (await api.data(REMOVE_EMAIL, {"id": second["email"]["id"]}))["removeEmail"]
    assert removed["__typename"] == "EmailRemovalPayload"
    assert removed["removedId"] == second["email"]["id"] and removed["company"] is None
    assert listed(removed["contact"]) == [("eins@x.de", True)]  # the other one became primary


async def test_phone_mutations_answer_the_company_with_its_phones(api: Api) -> None:
    company_id = await company(api, "Telefon GmbH")
    phones = "company { id phones { id phone isPrimary } } contact { id }"
    add = f"""mutation($c: ID!, $p: String!) {{ addCompanyPhone(companyId: $c, input: {{phone: $p}}) {{
      phone {{ id }} {phones} }} }}"""
    first = (await api.data(add, {"c": company_id, "p": "+49 30 111"}))["addCompanyPhone"]
    second = (await api.data(add, {"c": company_id, "p": "+49 30 222"}))["addCompanyPhone"]
    assert first["contact"] is None and second["company"]["id"] == company_id
    assert listed(second["company"], "phones") == [("+49 30 111", True), ("+49 30 222", False)]
    primary = f"mutation($id: ID!) {{ setPrimaryPhone(id: $id) {{ {phones} }} }}"
    switched = (await api.data(primary, {"id": second["phone"]["id"]}))["setPrimaryPhone"]
    assert listed(switched["company"], "phones") == [("+49 30 222", True), ("+49 30 111", False)]
    remove = f"mutation($id: ID!) {{ removePhone(id: $id) {{ removedId {phones} }} }}"
    removed = (await api.data(remove, {"id": first["phone"]["id"]}))["removePhone"]
    assert removed["removedId"] == first["phone"]["id"]
    assert listed(removed["company"], "phones") == [("+49 30 222", True)]


BOTH = """fromCompany { id relationships { edges { node { id direction type { name } } } } }
  toCompany { id relationships { edges { node { id direction type { name } } } } }"""


def relations(record: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["direction"], r["type"]["name"]) for r in nodes(record["relationships"])]


async def test_relationship_mutations_answer_both_companies(api: Api) -> None:
    holding, daughter = await company(api, "Holding AG"), await company(api, "Tochter GmbH")
    mother, partner = await kind(api), await kind(api, "Partner", None)
    create = f"""mutation($a: ID!, $b: ID!, $t: ID!) {{
      createCompanyRelationship(fromCompanyId: $a, toCompanyId: $b, typeId: $t) {{
        __typename relationship {{ id }} {BOTH} }} }}"""
    created = (await api.data(create, {"a": holding, "b": daughter, "t": mother}))[
        "createCompanyRelationship"
    ]
    assert created["__typename"] == "CompanyRelationshipPayload"
    assert created["fromCompany"]["id"] == holding and created["toCompany"]["id"] == daughter
    assert relations(created["fromCompany"]) == [("OUTGOING", "Mutter")]
    assert relations(created["toCompany"]) == [("INCOMING", "Mutter")]
    relationship = created["relationship"]["id"]

    update = f"""mutation($id: ID!, $t: ID!) {{ updateCompanyRelationship(id: $id, typeId: $t) {{
      relationship {{ id type {{ name }} }} {BOTH} }} }}"""
    updated = (await api.data(update, {"id": relationship, "t": partner}))[
        "updateCompanyRelationship"
    ]
    assert relations(updated["fromCompany"]) == [("OUTGOING", "Partner")]
    assert relations(updated["toCompany"]) == [("INCOMING", "Partner")]

    delete = f"""mutation($id: ID!) {{ deleteCompanyRelationship(id: $id) {{
      __typename removedId {BOTH} }} }}"""
    deleted = (await api.data(delete, {"id": relationship}))["deleteCompanyRelationship"]
    assert deleted["__typename"] == "CompanyRelationshipRemovalPayload"
    assert deleted["removedId"] == relationship
    assert relations(deleted["fromCompany"]) == relations(deleted["toCompany"]) == []


BOARD = "pipeline { id stages { id name position } summary { stage { name } dealCount } }"


def names(board: dict[str, Any]) -> list[str]:
    return [s["name"] for s in board["stages"]]


async def test_stage_mutations_answer_the_pipeline_with_its_stages(api: Api) -> None:
    board = await pipeline(api)
    add = f"""mutation($p: ID!) {{ addPipelineStage(pipelineId: $p, position: 1,
      input: {{name: "Demo", probability: 30}}) {{ __typename stage {{ id position }} {BOARD} }} }}"""
    added = (await api.data(add, {"p": board["id"]}))["addPipelineStage"]
    assert added["__typename"] == "StagePayload" and added["stage"]["position"] == 1
    assert names(added["pipeline"]) == ["Qualifizierung", "Demo", "Angebot", "Gewonnen", "Verloren"]
    demo = added["stage"]["id"]

    rename = f"""mutation($id: ID!) {{ updatePipelineStage(id: $id, input: {{name: "Vorführung"}}) {{
      stage {{ name }} {BOARD} }} }}"""
    renamed = (await api.data(rename, {"id": demo}))["updatePipelineStage"]
    assert "Vorführung" in names(renamed["pipeline"]) and "Demo" not in names(renamed["pipeline"])

    order = [
        stage(board, "Verloren"),
        demo,
        *(stage(board, n) for n in ("Qualifizierung", "Angebot", "Gewonnen")),
    ]
    reorder = """mutation($p: ID!, $s: [ID!]!) { reorderPipelineStages(pipelineId: $p, stageIds: $s) {
      __typename id stages { id position } } }"""
    reordered = (await api.data(reorder, {"p": board["id"], "s": order}))["reorderPipelineStages"]
    assert reordered["__typename"] == "Pipeline" and reordered["id"] == board["id"]
    assert [(s["id"], s["position"]) for s in reordered["stages"]] == [
        (s, i) for i, s in enumerate(order)
    ]

    await deal(api, stageId=demo)
    remove = f"""mutation($id: ID!, $to: ID) {{ removePipelineStage(id: $id, moveDealsTo: $to) {{
      __typename removedId {BOARD} }} }}"""
    target = stage(board, "Qualifizierung")
    removed = (await api.data(remove, {"id": demo, "to": target}))["removePipelineStage"]
    assert removed["__typename"] == "StageRemovalPayload" and removed["removedId"] == demo
    after = removed["pipeline"]
    assert names(after) == ["Verloren", "Qualifizierung", "Angebot", "Gewonnen"]
    assert [s["position"] for s in after["stages"]] == [0, 1, 2, 3]
    summary = {s["stage"]["name"]: s["dealCount"] for s in after["summary"]}
    assert summary["Qualifizierung"] == 1  # the moved deal counted where it went


async def test_owners_of_a_record_in_the_trash_are_not_found_and_stay(api: Api) -> None:
    """The answer is the record read after the write: a record in the trash cannot be read, so
    the write is refused first (NOT_FOUND, as for a missing id) instead of committing an
    owner change the client is told failed."""
    user = await me(api)
    created = await api.data('mutation { createCompany(input: {name: "Papierkorb GmbH"}) { id } }')
    company_id = created["createCompany"]["id"]
    await api.data("mutation($id: ID!) { deleteCompany(id: $id) }", {"id": company_id})
    for mutation in (
        "removeCompanyOwner(companyId: $c, userId: $u) { id }",
        "addCompanyOwner(companyId: $c, userId: $u, role: WATCHER) { id }",
    ):
        result = await api(
            f"mutation($c: ID!, $u: ID!) {{ {mutation} }}", {"c": company_id, "u": user}
        )
        assert error_codes(result) == ["NOT_FOUND"], mutation
    await api.data("mutation($id: ID!) { restoreCompany(id: $id) { id } }", {"id": company_id})
    owners = await api.data(
        "query($id: ID!) { company(id: $id) { owners { role user { id } } } }", {"id": company_id}
    )
    assert owners["company"]["owners"] == [{"role": "OWNER", "user": {"id": user}}]  # as it was
