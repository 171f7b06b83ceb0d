"""Owners of companies and contacts, and the users list for owner pickers."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, error_codes

ME = "{ me { user { id } } }"
ADD = """mutation($c: ID!, $u: ID!, $r: OwnerRole!) {
  addCompanyOwner(companyId: $c, userId: $u, role: $r) { id owners { userId role user { email } } } }"""
REMOVE = """mutation($c: ID!, $u: ID!) {
  removeCompanyOwner(companyId: $c, userId: $u) { id owners { userId } } }"""
OWNERS = "query($c: ID!) { company(id: $c) { owners { role user { id email name } } } }"


async def user_id(api: Api, role: str = "admin", tenant: str | None = None) -> str:
    uid: str = (await api.data(ME, role=role, tenant=tenant))["me"]["user"]["id"]
    return uid


async def new_company(api: Api) -> str:
    """A company nobody owns yet (not even its creator): each test sees only what it adds."""
    data = await api.data(
        'mutation { createCompany(input: {name: "Eigner GmbH", owners: []}) { id } }'
    )
    company_id: str = data["createCompany"]["id"]
    return company_id


async def owners(api: Api, company_id: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = (await api.data(OWNERS, {"c": company_id}))["company"]["owners"]
    return result


async def test_adding_an_owner_twice_updates_the_role(api: Api) -> None:
    company_id, me = await new_company(api), await user_id(api)
    colleague = await user_id(api, "member")
    added = await api.data(ADD, {"c": company_id, "u": colleague, "r": "WATCHER"})
    assert added["addCompanyOwner"] == {
        "id": company_id,
        "owners": [
            {"userId": colleague, "role": "WATCHER", "user": {"email": "member@example.de"}}
        ],
    }
    await api.data(ADD, {"c": company_id, "u": me, "r": "OWNER"})
    await api.data(ADD, {"c": company_id, "u": colleague, "r": "MEMBER"})
    listed = await owners(api, company_id)
    assert [(o["user"]["id"], o["role"]) for o in listed] == [(me, "OWNER"), (colleague, "MEMBER")]


async def test_removing_an_owner(api: Api) -> None:
    company_id, me = await new_company(api), await user_id(api)
    await api.data(ADD, {"c": company_id, "u": me, "r": "OWNER"})
    removed = await api.data(REMOVE, {"c": company_id, "u": me})
    assert removed == {"removeCompanyOwner": {"id": company_id, "owners": []}}
    assert await owners(api, company_id) == []
    assert error_codes(await api(REMOVE, {"c": company_id, "u": me})) == ["NOT_FOUND"]


async def test_owner_must_be_a_user_of_the_same_tenant(api: Api, tenant: str) -> None:
    company_id = await new_company(api)
    stranger = await user_id(api, tenant=f"{tenant}-other")
    result = await api(ADD, {"c": company_id, "u": stranger, "r": "OWNER"})
    assert error_codes(result) == ["NOT_FOUND"]
    assert result["errors"][0]["message"] == "User not found."
    assert await owners(api, company_id) == []


async def test_another_tenants_company_is_not_found(api: Api, tenant: str) -> None:
    company_id = await new_company(api)
    other = f"{tenant}-b"
    result = await api(
        ADD, {"c": company_id, "u": await user_id(api, tenant=other), "r": "OWNER"}, tenant=other
    )
    assert error_codes(result) == ["NOT_FOUND"]
    assert result["errors"][0]["message"] == "Company not found."


async def test_viewer_cannot_change_owners(api: Api) -> None:
    company_id = await new_company(api)
    result = await api(
        ADD, {"c": company_id, "u": await user_id(api, "viewer"), "r": "OWNER"}, role="viewer"
    )
    assert error_codes(result) == ["FORBIDDEN"]


async def test_contact_owners(api: Api) -> None:
    created = await api.data('mutation { createContact(input: {lastName: "Owner"}) { id } }')
    contact_id, me = created["createContact"]["id"], await user_id(api)
    add = """mutation($c: ID!, $u: ID!) {
      addContactOwner(contactId: $c, userId: $u) { id owners { role } } }"""
    added = (await api.data(add, {"c": contact_id, "u": me}))["addContactOwner"]
    assert added == {"id": contact_id, "owners": [{"role": "OWNER"}]}
    data = await api.data(
        "query($c: ID!) { contact(id: $c) { owners { user { id } } } }", {"c": contact_id}
    )
    assert data["contact"]["owners"] == [{"user": {"id": me}}]


async def test_users_lists_the_tenants_users_with_search(api: Api, tenant: str) -> None:
    for subject in ("anna.schmidt", "bernd.weber"):
        await api.data(ME, token=api.tokens.make(tenant, "member", subject=subject))
    await api.data(ME, tenant=f"{tenant}-else")
    everyone = await api.data("{ users { email } }")
    assert [u["email"] for u in everyone["users"]] == [
        "admin@example.de",  # the caller
        "anna.schmidt@example.de",
        "bernd.weber@example.de",
    ]
    found = await api.data('{ users(search: "WEBER") { name } }')
    assert found["users"] == [{"name": "Bernd.Weber"}]
    assert error_codes(await api("{ users(first: 0) { id } }")) == ["BAD_USER_INPUT"]
