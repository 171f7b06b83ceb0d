"""addUser: an admin adds a colleague by e-mail and name before their first sign-in; they can
be made owners at once, and their first token of the tenant with that e-mail becomes them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import Api, error_codes, error_fields
from tests.test_events import events, last_id

ADD = "mutation($i: AddUserInput!) { addUser(input: $i) { id email name signedInAt } }"
USERS = "query($s: String) { users(search: $s) { id email name signedInAt } }"
ME = "{ me { user { id email name signedInAt } tenant { slug } } }"
OWN = """mutation($c: ID!, $u: ID!) { addCompanyOwner(companyId: $c, userId: $u) {
  role user { id name signedInAt } } }"""


async def add(api: Api, email: str, name: str = "Jana Neumann", **kw: Any) -> dict[str, Any]:
    added: dict[str, Any] = (await api.data(ADD, {"i": {"email": email, "name": name}}, **kw))[
        "addUser"
    ]
    return added


async def me_with(api: Api, subject: str, email: str, **claims: Any) -> dict[str, Any]:
    token = api.tokens.make(api.tenant, "member", subject=subject, email=email, **claims)
    found: dict[str, Any] = (await api.data(ME, token=token))["me"]["user"]
    return found


async def test_an_added_user_is_listed_and_can_own_records_before_signing_in(api: Api) -> None:
    before = await last_id(api)
    added = await add(api, "jana.neumann@example.de")
    assert added["signedInAt"] is None and added["name"] == "Jana Neumann"
    (event,) = await events(api, after=before, first=10)
    assert (event["type"], event["entityId"]) == ("crm.user.created", added["id"])
    assert event["changes"] == {
        "email": [None, "jana.neumann@example.de"],
        "name": [None, "Jana Neumann"],
    }
    listed = (await api.data(USERS, {"s": "neumann"}))["users"]
    assert listed == [added]
    company = await api.data('mutation { createCompany(input: {name: "Für Jana"}) { id } }')
    owner = await api.data(OWN, {"c": company["createCompany"]["id"], "u": added["id"]})
    assert owner["addCompanyOwner"] == {
        "role": "OWNER",
        "user": {"id": added["id"], "name": "Jana Neumann", "signedInAt": None},
    }


async def test_the_first_token_with_that_email_becomes_the_added_user(api: Api) -> None:
    added = await add(api, "Jana.Neumann@Example.de")
    first = await me_with(api, "auth|jana", "jana.neumann@example.de")  # case differs
    assert first["id"] == added["id"]
    assert first["signedInAt"] is not None
    assert first["email"] == "jana.neumann@example.de"  # the token's, as for every sign-in
    again = await me_with(api, "auth|jana", "jana.neumann@example.de")
    assert again["id"] == added["id"]
    # Bound once: another subject with the same e-mail is a user of its own.
    other = await me_with(api, "auth|jana-2", "jana.neumann@example.de")
    assert other["id"] != added["id"]
    assert (await me_with(api, "auth|jana", "jana.neumann@example.de"))["id"] == added["id"]


async def test_a_known_subject_never_takes_over_an_added_user(api: Api) -> None:
    known = await me_with(api, "auth|known", "alt@example.de")
    added = await add(api, "neu@example.de")
    # The known subject now signs in with the added user's e-mail: it stays who it was.
    assert (await me_with(api, "auth|known", "neu@example.de"))["id"] == known["id"]
    waiting = (await api.data(USERS, {"s": "Jana"}))["users"]
    assert [(u["id"], u["signedInAt"]) for u in waiting] == [(added["id"], None)]


async def test_an_unverified_email_does_not_take_over_an_added_user(api: Api) -> None:
    added = await add(api, "geprueft@example.de")
    unverified = await me_with(api, "auth|x", "geprueft@example.de", email_verified=False)
    assert unverified["id"] != added["id"]
    verified = await me_with(api, "auth|y", "geprueft@example.de", email_verified=True)
    assert verified["id"] == added["id"]


async def test_an_added_user_of_one_tenant_never_binds_a_token_of_another(
    api: Api, tenant: str
) -> None:
    added = await add(api, "mehrfach@example.de")
    other = Api(api.client, api.tokens, f"{tenant}-b")
    elsewhere = await me_with(other, "auth|m", "mehrfach@example.de")
    assert elsewhere["id"] != added["id"]
    assert (await api.data(USERS, {"s": "mehrfach"}))["users"][0]["signedInAt"] is None
    theirs = (await other.data(USERS, {"s": "mehrfach"}))["users"]
    assert [u["id"] for u in theirs] == [elsewhere["id"]]
    assert (await me_with(api, "auth|m", "mehrfach@example.de"))["id"] == added["id"]


async def test_concurrent_first_sign_ins_bind_the_added_user_to_one_subject(api: Api) -> None:
    added = await add(api, "gleichzeitig@example.de")
    found = await asyncio.gather(
        *(me_with(api, f"auth|c{n}", "gleichzeitig@example.de") for n in range(6))
    )
    assert sum(user["id"] == added["id"] for user in found) == 1
    assert len({user["id"] for user in found}) == 6


async def test_an_email_a_user_of_the_tenant_has_is_a_conflict(api: Api) -> None:
    signed_in = await me_with(api, "auth|da", "schon.da@example.de")
    taken = await api(ADD, {"i": {"email": "SCHON.DA@example.de", "name": "Doppelt"}})
    assert error_codes(taken) == ["CONFLICT"]
    assert taken["errors"][0]["extensions"]["userId"] == signed_in["id"]
    await add(api, "wartet@example.de")
    waiting = await api(ADD, {"i": {"email": "wartet@example.de", "name": "Noch mal"}})
    assert error_codes(waiting) == ["CONFLICT"]
    # Two admins adding the same address at once: one user, one CONFLICT.
    both = await asyncio.gather(
        *(api(ADD, {"i": {"email": "zugleich@example.de", "name": f"Z {n}"}}) for n in range(2))
    )
    assert sorted(tuple(error_codes(result)) for result in both) == [(), ("CONFLICT",)]
    assert len((await api.data(USERS, {"s": "zugleich"}))["users"]) == 1


@pytest.mark.parametrize(
    ("email", "name", "field"),
    [
        ("keine-adresse", "Jana", "email"),
        ("a@" + "b" * 320 + ".de", "Jana", "email"),
        ("jana@example.de", "", "name"),
        ("jana@example.de", "x" * 201, "name"),
        ("jana@example.de", "a\x00b", "input"),
    ],
)
async def test_bad_input_is_refused_and_adds_nobody(
    api: Api, email: str, name: str, field: str
) -> None:
    result = await api(ADD, {"i": {"email": email, "name": name}})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    if field != "input":
        assert error_fields(result) == {field}
    assert len((await api.data(USERS))["users"]) == 1  # the admin asking


async def test_only_an_admin_adds_users(api: Api) -> None:
    for role in ("member", "viewer"):
        result = await api(ADD, {"i": {"email": f"{role}@neu.de", "name": "Neu"}}, role=role)
        assert error_codes(result) == ["FORBIDDEN"]
