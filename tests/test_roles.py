"""Roles across the domain: viewer reads only, member writes CRM data, admin also config."""

from __future__ import annotations

import pytest

from tests.conftest import Api, error_codes

ID = "00000000-0000-0000-0000-000000000001"
# Each CRM write with what a member gets past the permission check (the dummy ids exist nowhere).
CRM_WRITES = {
    'mutation { createContact(input: {lastName: "X"}) { id } }': [],
    'mutation { createDeal(input: {title: "X"}) { id } }': ["BAD_USER_INPUT"],  # no pipeline yet
    f'mutation {{ createActivity(input: {{type: NOTE, subject: "X", companyId: "{ID}"}}) {{ id }} }}': [
        "NOT_FOUND"
    ],
    f'mutation {{ createContract(input: {{companyId: "{ID}", title: "X"}}) {{ id }} }}': [
        "NOT_FOUND"
    ],
    f'mutation {{ createCompanyRelationship(fromCompanyId: "{ID}", toCompanyId: "{ID}", typeId: "{ID}") {{ relationship {{ id }} }} }}': [
        "BAD_USER_INPUT"
    ],
    f'mutation {{ addCompanyEmail(companyId: "{ID}", input: {{email: "a@b.de"}}) {{ email {{ id }} }} }}': [
        "NOT_FOUND"
    ],
    f'mutation {{ addDealOwner(dealId: "{ID}", userId: "{ID}") {{ id }} }}': ["NOT_FOUND"],
    f'mutation {{ moveDealToStage(id: "{ID}", stageId: "{ID}") {{ id }} }}': ["NOT_FOUND"],
    f'mutation {{ completeActivity(id: "{ID}") {{ id }} }}': ["NOT_FOUND"],
}
CONFIG_WRITES = [
    'mutation { createPipeline(input: {name: "X", stages: [{name: "S"}]}) { id } }',
    f'mutation {{ addPipelineStage(pipelineId: "{ID}", input: {{name: "S"}}) {{ stage {{ id }} }} }}',
    f'mutation {{ removePipelineStage(id: "{ID}") {{ removedId }} }}',
    'mutation { createIndustry(input: {name: "X"}) { id } }',
]
READS = [
    "{ contacts { totalCount } }",
    "{ deals { totalCount } }",
    "{ activities { totalCount } }",
    "{ pipelines { totalCount } }",
    "{ contracts { totalCount } }",
    "{ companyRelationships { totalCount } }",
    "{ users { id } }",
]


@pytest.mark.parametrize("mutation", [*CRM_WRITES, *CONFIG_WRITES])
async def test_viewer_cannot_write(api: Api, mutation: str) -> None:
    assert error_codes(await api(mutation, role="viewer")) == ["FORBIDDEN"]


@pytest.mark.parametrize("mutation", CONFIG_WRITES)
async def test_member_cannot_change_configuration(api: Api, mutation: str) -> None:
    assert error_codes(await api(mutation, role="member")) == ["FORBIDDEN"]


@pytest.mark.parametrize(("mutation", "expected"), CRM_WRITES.items())
async def test_member_may_write_crm_data(api: Api, mutation: str, expected: list[str]) -> None:
    assert error_codes(await api(mutation, role="member")) == expected


@pytest.mark.parametrize("query", READS)
async def test_viewer_reads_everything(api: Api, query: str) -> None:
    assert "errors" not in await api(query, role="viewer")
