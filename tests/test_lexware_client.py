"""The Lexware client's contract: rate limit across processes, retries, error mapping, keys."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import uuid

import httpx
import sqlalchemy as sa
from pydantic import SecretStr
from sqlmodel import col

from app import health
from app.data.tenancy import TenantScope
from app.lexware.client import _error_for
from app.settings import Settings
from fake_lexware.server import FakeLexware
from models import ContactEmail
from tests.conftest import Api, Servers, Tokens, error_codes, error_fields, serving
from tests.lexware_fixtures import ACME, SET_KEY, Lexware
from tests.test_events import events
from tests.test_lexware_contacts import IMPORT, PUSH, SEARCH, company

STATUS = "{ lexwareStatus { source keyHint working organization message } }"


async def test_without_a_key_lexware_is_off_and_the_rest_works(
    api: Api, client: httpx.AsyncClient
) -> None:
    refused = await api(SEARCH, {"name": "Acme"})
    assert error_codes(refused) == ["LEXWARE_NOT_CONFIGURED"]
    status = await api.data(STATUS)
    assert (
        status["lexwareStatus"]["source"] == "NONE" and status["lexwareStatus"]["working"] is None
    )
    assert (await client.get("/health")).json()["checks"]["lexware"] == "unconfigured"
    assert (await api.data('mutation { createCompany(input: {name: "Geht"}) { id } }'))[
        "createCompany"
    ]


async def test_each_tenant_uses_its_own_key(lexware: Lexware, tokens: Tokens) -> None:
    mine = lexware.seed(ACME)
    other_key = f"key-{uuid.uuid4().hex}"
    lexware.fake.add_api_key(other_key)
    theirs = lexware.fake.seed_contact(other_key, {**ACME, "company": {"name": "Andere Acme AG"}})
    other = Api(lexware.api.client, tokens, f"other-{uuid.uuid4().hex[:8]}")
    assert error_codes(await other(SEARCH, {"name": "Acme"})) == ["LEXWARE_NOT_CONFIGURED"]
    await other.data(SET_KEY, {"k": other_key})
    seen_by_other = await other.data(SEARCH, {"name": "Acme"})
    assert [i["id"] for i in seen_by_other["lexwareContacts"]["items"]] == [theirs["id"]]
    seen_by_me = await lexware.api.data(SEARCH, {"name": "Acme"})
    assert [i["id"] for i in seen_by_me["lexwareContacts"]["items"]] == [mine["id"]]
    assert error_codes(await other(IMPORT, {"l": mine["id"]})) == ["NOT_FOUND"]
    status = await lexware.api.data(STATUS)
    assert status["lexwareStatus"]["source"] == "TENANT"
    assert status["lexwareStatus"]["keyHint"] == lexware.key[-4:]
    assert lexware.key not in str(status)


async def test_a_refused_key_is_not_stored_and_only_admins_set_keys(lexware: Lexware) -> None:
    refused = await lexware.api(SET_KEY, {"k": "unknown-key-0123456789"})
    assert error_codes(refused) == ["BAD_USER_INPUT"] and error_fields(refused) == {"apiKey"}
    assert (await lexware.api.data(STATUS))["lexwareStatus"]["keyHint"] == lexware.key[-4:]
    member = await lexware.api(SET_KEY, {"k": lexware.key}, role="member")
    assert error_codes(member) == ["FORBIDDEN"]
    cleared = await lexware.api.data(SET_KEY, {"k": None})
    assert cleared["setLexwareApiKey"]["source"] == "NONE"


async def test_unavailable_lexware_is_retried_then_reported(lexware: Lexware) -> None:
    lexware.seed(ACME)
    lexware.fake.fail_next(503, count=2)
    found = await lexware.api.data(SEARCH, {"name": "Acme"})
    assert found["lexwareContacts"]["totalElements"] == 1
    assert [r.status for r in lexware.calls("GET")][-3:] == [503, 503, 200]
    before = len(lexware.calls())
    lexware.fake.fail_next(503, count=10)
    result = await lexware.api(SEARCH, {"name": "Acme"})
    assert error_codes(result) == ["LEXWARE_UNAVAILABLE"]
    assert len(lexware.calls()) - before == 3  # LEXWARE_MAX_ATTEMPTS, then it stops
    lexware.fake.clear_failures()


async def test_rate_limited_answers_are_waited_out(lexware: Lexware) -> None:
    """The fake's own bucket (2/s) answers 429 to our 5 ms spacing: with Retry-After the client
    waits as told, without it backs off, and every search still succeeds."""
    lexware.seed(ACME)
    lexware.fake.rate_limit_enabled = True
    for retry_after in (True, False):
        lexware.fake.retry_after_header = retry_after
        results = await asyncio.gather(*(lexware.api(SEARCH, {"name": "Acme"}) for _ in range(4)))
        assert all("errors" not in r for r in results), results
    assert 429 in [r.status for r in lexware.calls()]
    lexware.fake.rate_limit_enabled = False


async def test_lexware_validation_errors_name_lexwares_fields(lexware: Lexware) -> None:
    acme = lexware.seed(ACME)
    crm = (await lexware.api.data(IMPORT, {"l": acme["id"]}))["importCompanyFromLexware"]
    lexware.fake.edit_in_web_app(
        lexware.key, acme["id"], {"xRechnung": {"buyerReference": "04011000-1234512345-35"}}
    )
    await lexware.api.data(
        'mutation($id: ID!) { updateCompany(id: $id, input: {taxId: "11/111/11111"}) { id } }',
        {"id": crm["id"]},
    )
    refused = await lexware.api(PUSH, {"id": crm["id"]})
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert "lexware.xRechnung.vendorNumberAtCustomer" in error_fields(refused)


LINK_STATE = "query($id: ID!) { company(id: $id) { version lexwareContactId lexwareSyncedAt } }"


async def old_email(lexware: Lexware, company_id: str, email: str) -> None:
    """An e-mail the CRM refuses today but an older version stored, as that version did."""
    me = await lexware.api.data("{ me { tenant { id } user { id } } }")
    tenant, user = me["me"]["tenant"]["id"], me["me"]["user"]["id"]
    scope = TenantScope(uuid.UUID(tenant), uuid.UUID(user), lexware.app.state.runtime.sessions)
    owner = {"company_id": uuid.UUID(company_id)}
    async with scope.writing() as uow:
        await uow.execute(
            sa.delete(ContactEmail).where(col(ContactEmail.company_id) == owner["company_id"])
        )
        await uow.execute(
            sa.insert(ContactEmail).values(scope.owned(**owner, email=email, is_primary=True))
        )


async def test_data_lexware_refuses_is_bad_user_input_and_changes_nothing(
    lexware: Lexware,
) -> None:
    crm = await company(lexware, name="Tippfehler GmbH")
    await old_email(lexware, crm["id"], "anna..s@tipp.de")  # the CRM refuses it now
    before = await lexware.api.data(LINK_STATE, {"id": crm["id"]})
    refused = await lexware.api(PUSH, {"id": crm["id"]})
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert error_fields(refused) == {"lexware.emailAddresses.business[0]"}
    message = refused["errors"][0]["message"]
    assert message.startswith("Lexware Office refused the data (406)") and "business[0]" in message
    assert [r.status for r in lexware.calls("POST")] == [406]  # not retried
    assert lexware.fake.organization(lexware.key).contacts == {}
    assert await lexware.api.data(LINK_STATE, {"id": crm["id"]}) == before
    assert [e["type"] for e in await events(lexware.api, entityId=crm["id"])] == [
        "crm.company.created"
    ]
    acme = lexware.seed(ACME)  # a linked record: the update is refused the same way
    linked = (await lexware.api.data(IMPORT, {"l": acme["id"]}))["importCompanyFromLexware"]
    await old_email(lexware, linked["id"], "x.@acme.de")
    before = await lexware.api.data(LINK_STATE, {"id": linked["id"]})
    refused = await lexware.api(PUSH, {"id": linked["id"]})
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert error_fields(refused) == {"lexware.emailAddresses.business[0]"}
    assert await lexware.api.data(LINK_STATE, {"id": linked["id"]}) == before
    assert lexware.fake.contact(lexware.key, acme["id"]) == acme  # untouched, same version


async def test_lexware_answering_400_is_bad_user_input_with_what_it_said(
    lexware: Lexware,
) -> None:
    """A request Lexware takes for malformed (400, `bad_request_error`, "HTTP Status Codes") is the CRM's
    data that Lexware refused, not an outage."""
    crm = await company(lexware, name="Missverstanden GmbH")
    before = await lexware.api.data(LINK_STATE, {"id": crm["id"]})
    lexware.fake.fail_next(400)
    refused = await lexware.api(PUSH, {"id": crm["id"]})
    assert error_codes(refused) == ["BAD_USER_INPUT"]  # before item 9: LEXWARE_UNAVAILABLE
    [error] = refused["errors"]
    assert error["message"] == "Lexware Office refused the data (400): bad_request_error."
    assert error["extensions"]["fields"] == [{"field": "lexware", "message": "bad_request_error"}]
    assert [r.status for r in lexware.calls("POST")] == [400]  # not retried
    assert lexware.fake.organization(lexware.key).contacts == {}
    assert await lexware.api.data(LINK_STATE, {"id": crm["id"]}) == before
    pushed = await lexware.api.data(PUSH, {"id": crm["id"]})  # nothing was held against it
    assert pushed["pushCompanyToLexware"]["lexwareContactId"] is not None


def test_what_lexware_said_in_a_400_reaches_the_client() -> None:
    legacy = {
        "IssueList": [
            {"i18nKey": "bad_request_error", "source": "size must be between 3 and 2147483647"},
        ]
    }
    error = _error_for(400, legacy)
    assert error.extensions["code"] == "BAD_USER_INPUT"
    assert error.extensions["fields"] == [
        {"field": "lexware", "message": "bad_request_error: size must be between 3 and 2147483647"}
    ]
    regular = {
        "status": 400,
        "message": "Validation failed",
        "details": [{"violation": "NOTNULL", "field": "voucherType", "message": "is required"}],
    }
    assert _error_for(400, regular).extensions["fields"] == [
        {"field": "lexware.voucherType", "message": "is required"}
    ]
    only_message = _error_for(400, {"status": 400, "message": "Bad Request", "details": []})
    assert only_message.extensions["fields"] == [{"field": "lexware", "message": "Bad Request"}]
    assert "Bad Request" in str(only_message)


async def test_a_create_that_timed_out_is_looked_up_not_repeated(lexware: Lexware) -> None:
    crm = await company(lexware, name="Zeitüberschreitung GmbH", emails=[{"email": "t@z.de"}])
    lexware.fake.fail_next(504, after_write=True)
    pushed = (await lexware.api.data(PUSH, {"id": crm["id"]}))["pushCompanyToLexware"]
    assert [r.status for r in lexware.calls("POST")] == [504]
    org = lexware.fake.organization(lexware.key)
    assert list(org.contacts) == [pushed["lexwareContactId"]]


LIMITED_CALLS = textwrap.dedent(
    """
    import asyncio, sys
    import aiohttp
    from redis.asyncio import Redis
    from app.lexware.client import LexwareClient, RetryPolicy
    from app.lexware.limiter import RateLimiter

    async def main(redis_url, base_url, key, count):
        redis = Redis.from_url(redis_url)
        async with aiohttp.ClientSession() as http:
            client = LexwareClient(http, base_url, key, RateLimiter(redis), RetryPolicy(max_wait_for_slot=60))
            for _ in range(count):
                await client.get("/v1/profile")
        await redis.aclose()

    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
    """
)


def _most_in_one_second(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


async def test_two_processes_together_stay_under_two_requests_per_second(
    fake_lexware: tuple[str, FakeLexware], servers: Servers
) -> None:
    url, fake = fake_lexware
    key = f"key-{uuid.uuid4().hex}"
    fake.add_api_key(key)
    fake.rate_limit_enabled = True
    args = [servers.redis_url, url, key, "4"]
    try:
        processes = [
            await asyncio.create_subprocess_exec(sys.executable, "-c", LIMITED_CALLS, *args)
            for _ in range(2)
        ]
        codes = [await p.wait() for p in processes]
    finally:
        fake.rate_limit_enabled = False
    assert codes == [0, 0]
    received = [r for r in fake.requests if r.api_key == key]
    assert len(received) == 8 and {r.status for r in received} == {200}
    assert _most_in_one_second([r.at for r in received]) <= 2


async def test_health_reports_whether_lexware_takes_the_server_key(
    settings: Settings, fake_lexware: tuple[str, FakeLexware]
) -> None:
    url, fake = fake_lexware
    key = f"key-{uuid.uuid4().hex}"
    fake.add_api_key(key)
    for api_key, expected in ((key, "up"), ("not-a-known-key-000000", "down")):
        own = settings.model_copy(
            update={
                "lexware_base_url": url,
                "lexware_api_key": SecretStr(api_key),
                "lexware_request_interval_ms": 5,
            }
        )
        health.forget_lexware_check()  # the check is cached for a minute
        async with serving(own) as http:
            body = (await http.get("/health")).json()
        assert body["checks"]["lexware"] == expected
        assert body["status"] == "ok"  # Lexware does not make the CRM unhealthy
