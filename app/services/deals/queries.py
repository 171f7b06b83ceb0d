"""Reading deals: one by id, filtered keyset pages, counts, per-stage aggregates of a pipeline."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import col

from app.data import records
from app.data.pagination import PageQuery, PageRequest, range_conditions
from app.data.sort_keys import (
    SortKey,
    bounded_decimal,
    date_key,
    enum_key,
    integer_key,
    lowered_key,
    money_key,
    related,
    text_key,
    timestamp_key,
)
from app.data.tenancy import TenantScope
from app.errors import BadUserInput
from app.services.common.leakproof import cents_between, ranked
from app.services.common.relation_filters import (
    Link,
    Quantified,
    Walk,
    conditions,
    owned_by_me,
    quantified,
    register,
    scalar,
    to_one,
)
from app.services.common.validation import check_filter
from app.services.deals.rows import DealRow
from app.services.deals.rules import DEAL
from app.services.search.queries import search_condition
from app.services.search.rules import SearchKind
from models import (
    Activity,
    Company,
    Contact,
    Deal,
    DealOwner,
    DealStatus,
    PipelineStage,
    StageFigure,
)

if TYPE_CHECKING:
    from app.services.activities.queries import ActivityFilter
    from app.services.companies.queries import CompanyFilter
    from app.services.contacts.queries import ContactFilter
    from app.services.owners.queries import OwnerFilter


class DealOrderField(Enum):
    CREATED_AT = "CREATED_AT"
    VALUE = "VALUE"
    EXPECTED_CLOSE_DATE = "EXPECTED_CLOSE_DATE"
    UPDATED_AT = "UPDATED_AT"
    TITLE = "TITLE"
    STATUS = "STATUS"
    CLOSED_AT = "CLOSED_AT"
    STAGE = "STAGE"
    COMPANY_NAME = "COMPANY_NAME"


_SORT_KEYS = {
    DealOrderField.CREATED_AT: timestamp_key("createdAt", col(Deal.created_at)),
    DealOrderField.VALUE: money_key("value", col(Deal.value_cents)),
    # Deals without a date last, in both directions.
    DealOrderField.EXPECTED_CLOSE_DATE: date_key(
        "expectedCloseDate", col(Deal.expected_close_date), nullable=True
    ),
    DealOrderField.UPDATED_AT: timestamp_key("updatedAt", col(Deal.updated_at)),
    DealOrderField.TITLE: text_key("title", col(Deal.title_key)),
    DealOrderField.STATUS: enum_key("status", col(Deal.status_rank), DealStatus),
    DealOrderField.CLOSED_AT: timestamp_key("closedAt", col(Deal.closed_at), nullable=True),
    # The stage's position on its pipeline's board (meant for one pipeline's deals).
    DealOrderField.STAGE: integer_key(
        "stage", related(col(PipelineStage.position), col(PipelineStage.id), col(Deal.stage_id))
    ),
    DealOrderField.COMPANY_NAME: lowered_key(
        "companyName",
        related(col(Company.name), col(Company.id), col(Deal.company_id)),
        nullable=True,
    ),
}


def deal_sort_key(order: DealOrderField) -> SortKey:
    """The deals list's sort key of `order` (a nested list pages by it too)."""
    return _SORT_KEYS[order]


@dataclass(frozen=True)
class DealFilter:
    search: str | None = None
    pipeline_id: uuid.UUID | None = None
    stage_id: uuid.UUID | None = None
    statuses: tuple[DealStatus, ...] = ()
    company_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    close_from: date | None = None
    close_to: date | None = None
    closed_after: datetime | None = None
    closed_before: datetime | None = None
    # relation filters (app.services.common.relation_filters)
    owned_by_me: bool | None = None
    owners: Quantified[OwnerFilter] | None = None
    company: CompanyFilter | None = None
    contact: ContactFilter | None = None
    activities: Quantified[ActivityFilter] | None = None
    and_: tuple[DealFilter, ...] = ()
    or_: tuple[DealFilter, ...] | None = None
    not_: DealFilter | None = None


@dataclass(frozen=True)
class DealQuery:
    page: PageRequest
    filter: DealFilter = field(default_factory=DealFilter)
    order: DealOrderField = DealOrderField.CREATED_AT
    caller: uuid.UUID | None = None  # the user of `ownedByMe`


def _equal(conditions: list[Any], column: Any, value: Any) -> None:
    if value is not None:
        conditions.append(column == value)


def _check_amounts(f: DealFilter) -> None:
    for name, value in (("valueMin", f.value_min), ("valueMax", f.value_max)):
        if value is None:
            continue
        try:
            bounded_decimal(value)
        except (ValueError, ArithmeticError):
            raise BadUserInput.single(f"filter.{name}", "must be an amount below 10^12") from None


def _where(f: DealFilter) -> list[Any]:
    check_filter(f)
    _check_amounts(f)
    conditions: list[Any] = []
    conditions += search_condition(SearchKind.DEAL, col(Deal.id), f.search)
    equal: tuple[tuple[Any, Any], ...] = (
        (col(Deal.pipeline_id), f.pipeline_id),
        (col(Deal.stage_id), f.stage_id),
        (col(Deal.company_id), f.company_id),
        (col(Deal.contact_id), f.contact_id),
    )
    for column, value in equal:
        _equal(conditions, column, value)
    if f.statuses:
        conditions.append(ranked(col(Deal.status_rank), f.statuses))
    if f.owner_id is not None:
        owned = sa.select(col(DealOwner.id)).where(
            col(DealOwner.deal_id) == col(Deal.id), col(DealOwner.user_id) == f.owner_id
        )
        conditions.append(owned.exists())
    conditions += cents_between(col(Deal.value_cents), f.value_min, f.value_max)
    return conditions + range_conditions(
        (
            (col(Deal.expected_close_date), f.close_from, f.close_to),
            (col(Deal.closed_at), f.closed_after, f.closed_before),
        )
    )


_DEAL_ID = col(Deal.id)
_OWNERS = Link("owners", Deal, col(DealOwner.deal_id), _DEAL_ID)
_COMPANY = Link("company", Deal, col(Company.id), col(Deal.company_id))
_CONTACT = Link("contact", Deal, col(Contact.id), col(Deal.contact_id))
_ACTIVITIES = Link("activities", Deal, col(Activity.deal_id), _DEAL_ID)


def _relations(f: DealFilter, walk: Walk) -> list[Any]:
    return [
        *owned_by_me(_OWNERS, col(DealOwner.user_id), f.owned_by_me, walk),
        *quantified(_OWNERS, f.owners, walk),
        *to_one(_COMPANY, f.company, walk),
        *to_one(_CONTACT, f.contact, walk),
        *quantified(_ACTIVITIES, f.activities, walk),
    ]


register(DealFilter, scalar(_where), _relations)


def _filtered(query_filter: DealFilter, caller: uuid.UUID | None) -> list[Any]:
    return conditions(query_filter, Walk(caller))


def deals_page(query: DealQuery) -> PageQuery[DealRow]:
    where = _filtered(query.filter, query.caller)
    return PageQuery(DEAL, where, _SORT_KEYS[query.order], query.page)


async def count_deals(scope: TenantScope, query_filter: DealFilter) -> int:
    return await records.count_rows(scope, Deal, _filtered(query_filter, scope.actor_id))


@dataclass(frozen=True)
class MoneySum:
    amount: Decimal
    currency: str


@dataclass
class StageSummary:
    stage_id: uuid.UUID
    deal_count: int = 0
    total: list[MoneySum] = field(default_factory=list)
    weighted: list[MoneySum] = field(default_factory=list)


async def stage_summaries(
    scope: TenantScope, pipeline_ids: Sequence[uuid.UUID]
) -> list[list[StageSummary]]:
    """Per stage of each pipeline: deal count, value sum and probability-weighted sum, per
    currency (sums across currencies would mean nothing). One statement for all pipelines.

    It adds up the figures the database keeps with every deal write (`stage_figure`, alembic
    0020's triggers): a few rows per stage and currency, however many deals the stages hold;
    a write that just committed is in them."""
    statement: Any = (  # (its 7-column type does not unify for mypy)
        sa.select(
            col(PipelineStage.pipeline_id),
            col(PipelineStage.id).label("stage_id"),
            col(PipelineStage.position),
            col(StageFigure.currency),
            sa.func.coalesce(sa.func.sum(col(StageFigure.deal_count)), 0).label("deals"),
            sa.func.coalesce(sa.func.sum(col(StageFigure.value_sum)), 0).label("total"),
            sa.func.coalesce(sa.func.sum(col(StageFigure.weighted_sum)), 0).label("weighted"),
        )
        .outerjoin(StageFigure, col(StageFigure.stage_id) == col(PipelineStage.id))
        .where(col(PipelineStage.pipeline_id).in_(set(pipeline_ids)))
        .group_by(col(PipelineStage.pipeline_id), col(PipelineStage.id), col(StageFigure.currency))
        .order_by(col(PipelineStage.position), col(StageFigure.currency))
    )
    by_pipeline: dict[uuid.UUID, dict[uuid.UUID, StageSummary]] = defaultdict(dict)
    async with scope.reading() as reads:
        for row in await reads.execute_rows(statement):
            summary = by_pipeline[row.pipeline_id].setdefault(
                row.stage_id, StageSummary(row.stage_id)
            )
            if row.currency is None or row.deals == 0:  # no deal (left) in that currency
                continue
            summary.deal_count += int(row.deals)  # sum(bigint) is numeric
            summary.total.append(MoneySum(Decimal(row.total), row.currency))
            summary.weighted.append(MoneySum(Decimal(row.weighted), row.currency))
    return [list(by_pipeline[p].values()) for p in pipeline_ids]


async def get_deal(scope: TenantScope, deal_id: uuid.UUID) -> DealRow:
    return await records.get_row(scope, DEAL, deal_id)
