"""Roles across the domain: viewer reads only, member writes CRM data, admin also config."""

from __future__ import annotations

import pytest

from tests.conftest import Api, error_codes

ID = "00000000-0000-0000-0000-000000000001"
CRM_WRITES = [
    'mutation { createContact(input: {lastName: "X"}) { id } }',
    'mutation { createDeal(input: {title: "X"}) { id } }',
    f"""mutation {{ createActivity(input: {{type: NOTE, subject: "X", companyId: "{ID}"}}) {{
      id }} }}""",
    f'mutation {{ createContract(input: {{companyId: "{ID}", title: "X"}}) {{ id }} }}',
    f"""mutation {{ createCompanyRelationship(fromCompanyId: "{ID}", toCompanyId: "{ID}",
      typeId: "{ID}") {{ id }} }}""",
    f'mutation {{ addCompanyEmail(companyId: "{ID}", input: {{email: "a@b.de"}}) {{ id }} }}',
    f'mutation {{ addDealOwner(dealId: "{ID}", userId: "{ID}") {{ role }} }}',
    f'mutation {{ moveDealToStage(id: "{ID}", stageId: "{ID}") {{ id }} }}',
    f'mutation {{ completeActivity(id: "{ID}") {{ id }} }}',
]
CONFIG_WRITES = [
    'mutation { createPipeline(input: {name: "X", stages: [{name: "S"}]}) { id } }',
    f'mutation {{ addPipelineStage(pipelineId: "{ID}", input: {{name: "S"}}) {{ id }} }}',
    f'mutation {{ removePipelineStage(id: "{ID}") }}',
    'mutation { createIndustry(input: {name: "X"}) { id } }',
]
READS = [
    "{ contacts { totalCount } }",
    "{ deals { totalCount } }",
    "{ activities { totalCount } }",
    "{ pipelines { id } }",
    "{ contracts { id } }",
    "{ users { id } }",
]


@pytest.mark.parametrize("mutation", CRM_WRITES + CONFIG_WRITES)
async def test_viewer_cannot_write(api: Api, mutation: str) -> None:
    assert error_codes(await api(mutation, role="viewer")) == ["FORBIDDEN"]


@pytest.mark.parametrize("mutation", CONFIG_WRITES)
async def test_member_cannot_change_configuration(api: Api, mutation: str) -> None:
    assert error_codes(await api(mutation, role="member")) == ["FORBIDDEN"]


@pytest.mark.parametrize("mutation", CRM_WRITES)
async def test_member_may_write_crm_data(api: Api, mutation: str) -> None:
    # Past the permission check: the dummy ids make it NOT_FOUND or a validation error instead.
    assert "FORBIDDEN" not in error_codes(await api(mutation, role="member"))


@pytest.mark.parametrize("query", READS)
async def test_viewer_reads_everything(api: Api, query: str) -> None:
    assert "errors" not in await api(query, role="viewer")
