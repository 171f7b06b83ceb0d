"""Reading pipelines: one by id, the tenant's default one, keyset pages and counts."""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.data import records
from app.data.pagination import PageQuery, PageRequest
from app.data.sort_keys import text_key, timestamp_key
from app.data.tenancy import TenantScope
from app.services.pipelines.rows import PipelineRow
from app.services.pipelines.rules import PIPELINE
from app.services.search.queries import direct_condition
from models import Pipeline


class PipelineOrderField(Enum):
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"


_SORT_KEYS = {
    PipelineOrderField.NAME: text_key("name", col(Pipeline.name_key)),
    PipelineOrderField.CREATED_AT: timestamp_key("createdAt", col(Pipeline.created_at)),
    PipelineOrderField.UPDATED_AT: timestamp_key("updatedAt", col(Pipeline.updated_at)),
}


def _where(search: str | None) -> list[Any]:
    return direct_condition([col(Pipeline.name)], search, "filter.search")


def pipelines_page(
    page: PageRequest, search: str | None, order: PipelineOrderField
) -> PageQuery[PipelineRow]:
    return PageQuery(PIPELINE, _where(search), _SORT_KEYS[order], page)


async def count_pipelines(scope: TenantScope, search: str | None) -> int:
    return await records.count_rows(scope, Pipeline, _where(search))


async def default_pipeline(scope: TenantScope) -> PipelineRow | None:
    statement = sa.select(*PIPELINE.columns).where(col(Pipeline.is_default))
    async with scope.reading() as reads:
        return (await reads.execute_rows(statement)).first()


async def get_pipeline(scope: TenantScope, pipeline_id: uuid.UUID) -> PipelineRow:
    return await records.get_row(scope, PIPELINE, pipeline_id)
