"""Deals: validation, create/update/move with the stage and status rules, delete, lists."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import AfterValidator, Field
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.errors import BadUserInput, NotFound
from app.services import records
from app.services.changes import Tracked, camel_keys, jsonable
from app.services.deal_rules import DealState, Requested, resolve
from app.services.owners import DEAL_OWNERS
from app.services.pipelines import DEAL_EVENTS, PIPELINE, stages_of
from app.services.records import Dependent, Entity
from app.services.validation import Input, Name200, Text500, patch_model, validate, validate_patch
from app.tenancy import TenantScope
from models import Activity, Deal, DealOwner, DealStatus, LostReason, OwnerRole, Pipeline

DEAL = Entity(
    Deal,
    "Deal",
    {
        "fk_deal_contact_id_contact": lambda: NotFound("Contact"),
        "fk_deal_company_id_company": lambda: NotFound("Company"),
        "fk_deal_pipeline_id_pipeline": lambda: NotFound("Pipeline"),
        **DEAL_OWNERS.entity.constraint_errors,
    },
    DEAL_EVENTS,
    (Dependent(Activity, "deal_id", Tracked("activity")),),
)
# Active ISO 4217 codes (2024), so a typo such as EUO is caught.
CURRENCIES = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CRC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "UYU",
        "UZS",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XCD",
        "XOF",
        "XPF",
        "YER",
        "ZAR",
        "ZMW",
        "ZWL",
    ]
)


def _check_currency(value: str) -> str:
    code = value.strip().upper()
    if code not in CURRENCIES:
        raise ValueError("must be an ISO 4217 currency code such as EUR")
    return code


Currency = Annotated[str, AfterValidator(_check_currency)]
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


class DealOwnerInput(Input):
    user_id: uuid.UUID
    role: OwnerRole = OwnerRole.OWNER


class DealFields(Input):
    title: Name200
    value: Money = Decimal(0)
    currency: Currency = "EUR"
    contact_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    expected_close_date: date | None = None


def _distinct_owners(owners: list[DealOwnerInput]) -> list[DealOwnerInput]:
    users = [owner.user_id for owner in owners]
    if len(users) != len(set(users)):
        raise ValueError("lists a user twice")
    return owners


class DealInput(DealFields):
    pipeline_id: uuid.UUID | None = None
    stage_id: uuid.UUID | None = None
    status: DealStatus | None = None
    lost_reason: LostReason | None = None
    lost_reason_text: Text500 = None
    owners: Annotated[
        list[DealOwnerInput], Field(max_length=20), AfterValidator(_distinct_owners)
    ] = []


class DealChanges(DealFields):
    pipeline_id: uuid.UUID
    stage_id: uuid.UUID
    status: DealStatus
    lost_reason: LostReason | None = None
    lost_reason_text: Text500 = None


DealPatch, NOT_NULLABLE = patch_model(DealChanges)
_RULE_FIELDS = ("stage_id", "status", "lost_reason", "lost_reason_text")


async def get_deal(scope: TenantScope, deal_id: uuid.UUID) -> Row[Any]:
    return await records.get_row(scope, DEAL, deal_id)


async def _stages(session: AsyncSession, requested: uuid.UUID | None) -> list[Row[Any]]:
    """The stages of the requested pipeline, or of the tenant's default one, in one statement
    (locked: see stages_of). A pipeline keeps at least one stage, so none means no pipeline."""
    if requested is not None:
        stages = await stages_of(session, requested)
        if not stages:
            raise NotFound("Pipeline")
        return stages
    default = sa.select(PIPELINE.id).where(col(Pipeline.is_default)).scalar_subquery()
    stages = await stages_of(session, default)
    if not stages:
        raise BadUserInput.single("pipelineId", "there is no pipeline yet; create one first")
    return stages


def _insert_with_owners(values: Mapping[str, Any], owners: list[dict[str, Any]]) -> Any:
    """The deal and its owners written by one statement (the owners' insert is a CTE that
    reads the new deal's id), answering the deal's row. Ids are given: SQLAlchemy cannot run a
    column's Python default inside a CTE."""
    new = sa.insert(Deal).values(id=uuid.uuid4(), **values)
    deal = new.returning(*DEAL.columns, col(Deal.tenant_id)).cte("new_deal")
    written = aliased(Deal, deal)  # an entity: the tenant filter applies to what it answers
    statement = sa.select(*(getattr(written, column.key) for column in DEAL.columns))
    if not owners:
        return statement
    deal_id = sa.select(deal.c.id).scalar_subquery()
    rows = [{**owner, "id": uuid.uuid4(), "deal_id": deal_id} for owner in owners]
    return statement.add_cte(sa.insert(DealOwner).values(rows).cte("new_owners"))


def _requested(values: Mapping[str, Any]) -> Requested:
    return Requested(**{f: values[f] for f in _RULE_FIELDS if f in values})


async def create_deal(scope: TenantScope, data: Mapping[str, Any]) -> Row[Any]:
    """The deal (placed by the stage rules) and its owners in one unit of work."""
    parsed = validate(DealInput, data)
    sent = parsed.model_dump(exclude_unset=True)
    owners = parsed.owners
    fields = parsed.model_dump(include=set(DealFields.model_fields))
    with records.constraint_errors(DEAL.constraint_errors):
        async with scope.writing() as session:
            stages = await _stages(session, parsed.pipeline_id)
            placed = resolve(stages, None, _requested(sent))
            values = {"pipeline_id": stages[0].pipeline_id, **fields, **placed}
            owner_rows = [owner.model_dump() for owner in owners]
            statement = _insert_with_owners(
                scope.owned(**values), [scope.owned(**o) for o in owner_rows]
            )
            row = (await session.execute(statement)).one()
            listed = {"owners": [None, jsonable(owner_rows)]} if owner_rows else {}
            records.record_created(session, DEAL, row, camel_keys(listed))
    return row


async def update_deal(
    scope: TenantScope,
    deal_id: uuid.UUID,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Row[Any]:
    """Change the fields sent; stage, status and lost reason follow the deal rules."""
    values = validate_patch(DealPatch, NOT_NULLABLE, data)
    if not set(values) & {*_RULE_FIELDS, "pipeline_id"}:
        return await records.update_row(scope, DEAL, deal_id, values, expected_version)

    async def place(session: AsyncSession, current: Row[Any]) -> dict[str, Any]:
        pipeline_id = values.get("pipeline_id", current.pipeline_id)
        await records.get_row_in(session, PIPELINE, pipeline_id, lock=False)
        stages = await stages_of(session, pipeline_id)
        return resolve(stages, _state(current), _requested(values))

    steps = records.UpdateSteps(place=place)
    return await records.update_row(scope, DEAL, deal_id, values, expected_version, steps=steps)


def _state(row: Row[Any]) -> DealState:
    return DealState(
        stage_id=row.stage_id,
        status=row.status,
        lost_reason=row.lost_reason,
        lost_reason_text=row.lost_reason_text,
        closed_at=row.closed_at,
    )


async def move_deal_to_stage(
    scope: TenantScope,
    deal_id: uuid.UUID,
    stage_id: uuid.UUID,
    lost: Mapping[str, Any] | None = None,
) -> Row[Any]:
    """Drag and drop on a board: the stage decides the status (LOST needs a reason)."""
    return await update_deal(scope, deal_id, {"stage_id": stage_id, **(lost or {})})


async def delete_deal(scope: TenantScope, deal_id: uuid.UUID) -> uuid.UUID:
    return await records.delete_row(scope, DEAL, deal_id)
