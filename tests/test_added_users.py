"""addUser: an admin adds a colleague by e-mail and name before their first sign-in; they can
be made owners at once, and their first token of the tenant with that e-mail becomes them."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from app.keys import DevTokenRequest, ensure_dev_key, sign_dev_token
from app.settings import Settings
from tests.conftest import DROP, Api, Servers, Tokens, error_codes, error_fields, serving
from tests.test_db_resilience import holding
from tests.test_events import events, last_id
from tests.test_orphaned_activities import until_waiting

ADD = "mutation($i: AddUserInput!) { addUser(input: $i) { id email name signedInAt } }"
USERS = "query($s: String) { users(search: $s) { id email name signedInAt } }"
ME = "{ me { user { id email name signedInAt } tenant { slug } } }"
OWN = """mutation($c: ID!, $u: ID!) { addCompanyOwner(companyId: $c, userId: $u) {
  owners { role user { id name signedInAt } } } }"""


async def add(api: Api, email: str, name: str = "Jana Neumann", **kw: Any) -> dict[str, Any]:
    added: dict[str, Any] = (await api.data(ADD, {"i": {"email": email, "name": name}}, **kw))[
        "addUser"
    ]
    return added


async def me_with(api: Api, subject: str, email: str, **claims: Any) -> dict[str, Any]:
    """`me` with a token of the tenant (its e-mail verified unless the claims say otherwise)."""
    claims.setdefault("email_verified", True)
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
    jana = [o for o in owner["addCompanyOwner"]["owners"] if o["user"]["id"] == added["id"]]
    assert jana == [
        {"role": "OWNER", "user": {"id": added["id"], "name": "Jana Neumann", "signedInAt": None}}
    ]


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


async def test_a_look_alike_address_does_not_take_over_an_added_user(api: Api) -> None:
    """PostgreSQL's lower() folds the Kelvin sign (U+212A) to an ASCII k: an address that
    only looks like the added one must not become that user, verified or not."""
    added = await add(api, "karl@example.de")
    look_alike = await me_with(api, "auth|kelvin", "\u212aarl@example.de")
    assert look_alike["id"] != added["id"]
    assert (await me_with(api, "auth|karl", "Karl@Example.de"))["id"] == added["id"]


@pytest.mark.parametrize(
    ("claim", "binds"),
    [
        (DROP, False),  # a token that does not say: not verified
        (None, False),
        ("false", False),
        ("False", False),
        ("yes", False),
        (1, False),
        ("true", True),  # as some providers send it
        ("TRUE", True),
        (True, True),
    ],
)
async def test_only_an_email_the_token_says_is_verified_takes_over_an_added_user(
    api: Api, claim: Any, binds: bool
) -> None:
    added = await add(api, "vielleicht@example.de")
    user = await me_with(api, "auth|v", "vielleicht@example.de", email_verified=claim)
    assert (user["id"] == added["id"]) is binds
    waiting = (await api.data(USERS, {"s": "vielleicht"}))["users"]
    assert [u["id"] for u in waiting if u["signedInAt"] is None] == ([] if binds else [added["id"]])


async def test_a_setting_trusts_tokens_that_never_say_whether_the_email_is_verified(
    settings: Settings, tokens: Tokens, tenant: str
) -> None:
    """JWT_ASSUME_EMAIL_VERIFIED, for auth services that verify every address and never send
    the claim: a token without it binds; one that says false still does not."""
    async with serving(settings.model_copy(update={"jwt_assume_email_verified": True})) as http:
        api = Api(http, tokens, tenant)
        first = await add(api, "ohne.angabe@example.de")
        second = await add(api, "nicht.geprueft@example.de")
        silent = await me_with(api, "auth|s", "ohne.angabe@example.de", email_verified=DROP)
        assert silent["id"] == first["id"]
        denied = await me_with(api, "auth|d", "nicht.geprueft@example.de", email_verified=False)
        assert denied["id"] != second["id"]


async def test_the_development_token_signs_in_as_the_user_added_for_its_email(
    settings: Settings, tokens: Tokens, tenant: str, tmp_path: Path
) -> None:
    """`insight-crm token --user EMAIL` after `addUser(EMAIL)`: that user (README's flow)."""
    dev_key = ensure_dev_key(tmp_path).as_pem(private=False).decode()
    development = settings.model_copy(
        update={"data_dir": tmp_path, "jwt_public_key": SecretStr(dev_key)}
    )

    def token(email: str, role: str) -> str:
        return sign_dev_token(development, DevTokenRequest(tenant, email, role, 600))

    async with serving(development) as http:
        api = Api(http, tokens, tenant)
        added = await add(api, "kollegin@example.de", token=token("chefin@example.de", "admin"))
        me = await api.data(ME, token=token("kollegin@example.de", "member"))
        assert me["me"]["user"]["id"] == added["id"]


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


EMAIL_LOCK = "crm:user-email:"  # in the statement that waits for the address's lock


async def done_or_waiting(task: asyncio.Task[Any], database_url: str, statement: str) -> None:
    """Until the task is done or waits on a lock in that statement, whichever comes first."""
    waiting = asyncio.create_task(until_waiting(database_url, statement))
    await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting


async def tenant_id(api: Api) -> uuid.UUID:
    return uuid.UUID((await api.data("{ me { tenant { id } } }"))["me"]["tenant"]["id"])


async def test_a_first_sign_in_while_that_user_is_being_added_becomes_that_user(
    settings: Settings, servers: Servers, tokens: Tokens, tenant: str
) -> None:
    """addUser has found no user with the address and is adding one, which waits (a second
    connection makes another user a waiting one with that address, not committed: the
    unique index holds addUser's row until that transaction ends); a first sign-in with the
    address now waits for addUser, then binds its user. Without the lock it found no waiting
    user, made one of its own, and addUser added a second user with the address."""
    async with serving(settings.model_copy(update={"db_lock_timeout_seconds": 30})) as http:
        api = Api(http, tokens, tenant)
        other = await me_with(api, "auth|anders", "anders@example.de")
        hold = 'UPDATE "user" SET subject = NULL, signed_in_at = NULL, email = $2 WHERE id = $1'
        address = "zeitgleich@example.de"
        async with holding(servers.database_url, hold, uuid.UUID(other["id"]), address):
            adding = asyncio.create_task(add(api, address))
            await until_waiting(servers.database_url, 'INSERT INTO "user"')
            signing_in = asyncio.create_task(me_with(api, "auth|z", address))
            await done_or_waiting(signing_in, servers.database_url, EMAIL_LOCK)
        added, signed_in = await asyncio.gather(adding, signing_in)
        assert signed_in["id"] == added["id"]
        listed = (await api.data(USERS, {"s": "zeitgleich"}))["users"]
        assert [user["id"] for user in listed] == [added["id"]]


async def test_adding_a_user_while_that_address_signs_in_for_the_first_time_is_a_conflict(
    settings: Settings, servers: Servers, tokens: Tokens, tenant: str
) -> None:
    """A first sign-in with the address has taken its lock and waits in its upsert (a second
    connection holds the tenant's row); addUser of the address now waits for it, then finds
    the signed-in user: CONFLICT (without the lock it added a second user, and the sign-in,
    deciding on what it saw before, made one of its own)."""
    async with serving(settings.model_copy(update={"db_lock_timeout_seconds": 30})) as http:
        api = Api(http, tokens, tenant)
        hold = "SELECT FROM tenant WHERE id = $1 FOR NO KEY UPDATE"
        async with holding(servers.database_url, hold, await tenant_id(api)):
            signing_in = asyncio.create_task(me_with(api, "auth|e", "erstmals@example.de"))
            await until_waiting(servers.database_url, "INSERT INTO tenant")
            variables = {"i": {"email": "erstmals@example.de", "name": "Erst Mals"}}
            adding = asyncio.create_task(api(ADD, variables))
            await done_or_waiting(adding, servers.database_url, EMAIL_LOCK)
        signed_in, refused = await asyncio.gather(signing_in, adding)
        assert error_codes(refused) == ["CONFLICT"], refused
        assert refused["errors"][0]["extensions"]["userId"] == signed_in["id"]
        listed = (await api.data(USERS, {"s": "erstmals"}))["users"]
        assert [user["id"] for user in listed] == [signed_in["id"]]


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
