"""The user who creates a company, contact or deal without naming owners becomes its OWNER
(CREATOR_IS_OWNER, on by default); named owners are exactly those; jobs create for nobody."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.data.tenancy import TenantScope
from app.services.companies import service as companies
from app.settings import Settings
from models import CompanyOwner
from tests.conftest import Api, Tokens, error_codes, error_fields, serving
from tests.factories import new_scope
from tests.lexware_fixtures import ACME, PERSON, Lexware
from tests.test_deals import pipeline
from tests.test_events import events, last_id

OWNED = "id owners { role user { id } }"
CREATE = {
    "company": f"mutation($i: CreateCompanyInput!) {{ createCompany(input: $i) {{ {OWNED} }} }}",
    "contact": f"mutation($i: CreateContactInput!) {{ createContact(input: $i) {{ {OWNED} }} }}",
    "deal": f"mutation($i: CreateDealInput!) {{ createDeal(input: $i) {{ {OWNED} }} }}",
}
REQUIRED = {
    "company": {"name": "Neu GmbH"},
    "contact": {"lastName": "Neu"},
    "deal": {"title": "Neu"},
}
LISTS = {"company": "companies", "contact": "contacts", "deal": "deals"}
ME = "{ me { user { id } } }"


async def me(api: Api, role: str = "admin") -> str:
    user_id: str = (await api.data(ME, role=role))["me"]["user"]["id"]
    return user_id


async def create(api: Api, kind: str, role: str = "admin", **fields: Any) -> dict[str, Any]:
    data = await api.data(CREATE[kind], {"i": {**REQUIRED[kind], **fields}}, role=role)
    created: dict[str, Any] = next(iter(data.values()))
    return created


def owners(record: dict[str, Any]) -> list[tuple[str, str]]:
    return [(o["user"]["id"], o["role"]) for o in record["owners"]]


@pytest.mark.parametrize("kind", ["company", "contact", "deal"])
async def test_the_creator_becomes_owner_when_no_owners_are_named(api: Api, kind: str) -> None:
    await pipeline(api)
    member = await me(api, "member")
    before = await last_id(api)

    created = await create(api, kind, role="member")

    assert owners(created) == [(member, "OWNER")]
    (event,) = await events(api, after=before, first=10)
    assert event["type"] == f"crm.{kind}.created"
    assert event["actorId"] == member
    assert event["changes"]["owners"] == [None, [{"userId": member, "role": "OWNER"}]]


@pytest.mark.parametrize("kind", ["company", "contact", "deal"])
async def test_named_owners_are_exactly_those(api: Api, kind: str) -> None:
    await pipeline(api)
    admin, member = await me(api), await me(api, "member")
    named = await create(api, kind, owners=[{"userId": member, "role": "MEMBER"}])
    assert owners(named) == [(member, "MEMBER")]
    nobody = await create(api, kind, owners=[])
    assert owners(nobody) == []
    unsent = await create(api, kind, owners=None)  # null is "not named"
    assert owners(unsent) == [(admin, "OWNER")]


@pytest.mark.parametrize("kind", ["company", "contact", "deal"])
async def test_bad_owners_create_nothing(api: Api, kind: str) -> None:
    await pipeline(api)
    member = await me(api, "member")
    unknown = await api(
        CREATE[kind], {"i": {**REQUIRED[kind], "owners": [{"userId": str(uuid.uuid4())}]}}
    )
    assert error_codes(unknown) == ["NOT_FOUND"]
    assert unknown["errors"][0]["message"] == "User not found."
    twice = [{"userId": member}, {"userId": member, "role": "WATCHER"}]
    doubled = await api(CREATE[kind], {"i": {**REQUIRED[kind], "owners": twice}})
    assert error_codes(doubled) == ["BAD_USER_INPUT"] and error_fields(doubled) == {"owners"}
    many = [{"userId": str(uuid.uuid4())} for _ in range(21)]
    too_many = await api(CREATE[kind], {"i": {**REQUIRED[kind], "owners": many}})
    assert error_codes(too_many) == ["BAD_USER_INPUT"] and error_fields(too_many) == {"owners"}
    listed = await api.data(f"{{ {LISTS[kind]}(first: 5) {{ totalCount }} }}")
    assert listed[LISTS[kind]]["totalCount"] == 0


async def test_creator_is_owner_false_leaves_new_records_without_owners(
    settings: Settings, tokens: Tokens, tenant: str
) -> None:
    async with serving(settings.model_copy(update={"creator_is_owner": False})) as http:
        api = Api(http, tokens, tenant)
        await pipeline(api)
        for kind in ("company", "contact", "deal"):
            assert owners(await create(api, kind)) == []
        member = await me(api, "member")
        named = await create(api, "company", owners=[{"userId": member}])
        assert owners(named) == [(member, "OWNER")]


async def test_a_job_creates_for_nobody(sessions: async_sessionmaker[AsyncSession]) -> None:
    """A scope without an acting user (the crons') adds no owner, whatever the setting."""
    scope = await new_scope(sessions)
    job = TenantScope(scope.tenant_id, None, sessions, creator_owns=True)
    await companies.create_company(job, {"name": "Vom Cron GmbH"})
    user = TenantScope(scope.tenant_id, scope.actor_id, sessions, creator_owns=True)
    mine = await companies.create_company(user, {"name": "Von mir GmbH"})
    statement = sa.select(col(CompanyOwner.company_id), col(CompanyOwner.user_id))
    async with scope.reading() as session:
        assert (await session.execute(statement)).all() == [(mine.id, scope.actor_id)]


async def test_an_import_from_lexware_is_owned_by_whoever_imported_it(lexware: Lexware) -> None:
    caller = await me(lexware.api, "member")
    acme, person = lexware.seed(ACME), lexware.seed(PERSON)
    company = await lexware.api.data(
        f"mutation($l: ID!) {{ importCompanyFromLexware(lexwareContactId: $l) {{ {OWNED} }} }}",
        {"l": acme["id"]},
        role="member",
    )
    contact = await lexware.api.data(
        f"mutation($l: ID!) {{ importContactFromLexware(lexwareContactId: $l) {{ {OWNED} }} }}",
        {"l": person["id"]},
        role="member",
    )
    assert owners(company["importCompanyFromLexware"]) == [(caller, "OWNER")]
    assert owners(contact["importContactFromLexware"]) == [(caller, "OWNER")]
