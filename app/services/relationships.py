"""Company-to-company relationships and contracts."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.engine import Row
from sqlmodel import col

from app.errors import BadUserInput, Conflict, FieldProblem, NotFound
from app.services import records
from app.services.deals import Currency, Money
from app.services.records import Entity
from app.services.validation import Input, Name200, Text50, patch_model, validate, validate_patch
from app.tenancy import TenantScope
from models import CompanyRelationship, Contract, ContractStatus

RELATIONSHIP = Entity(
    CompanyRelationship,
    "Relationship",
    {
        "fk_company_relationship_from_company_id_company": lambda: NotFound("Company"),
        "fk_company_relationship_to_company_id_company": lambda: NotFound("Company"),
        "fk_company_relationship_relationship_type_id_relationship_type": lambda: NotFound(
            "Relationship type"
        ),
        "ck_company_relationship_not_self": lambda: BadUserInput.single(
            "toCompanyId", "a company cannot be related to itself"
        ),
        "uq_company_relationship_pair_type": lambda: Conflict(
            "These companies already have a relationship of this type (in either direction)."
        ),
    },
)
CONTRACT = Entity(
    Contract,
    "Contract",
    {
        "fk_contract_company_id_company": lambda: NotFound("Company"),
        "ck_contract_dates": lambda: BadUserInput.single("endDate", "must not be before startDate"),
    },
)


class RelationshipInput(Input):
    from_company_id: uuid.UUID
    to_company_id: uuid.UUID
    relationship_type_id: uuid.UUID
    notes: Annotated[str | None, Field(max_length=2000)] = None


async def create_relationship(scope: TenantScope, data: Mapping[str, Any]) -> Row[Any]:
    values = validate(RelationshipInput, data).model_dump()
    if values["from_company_id"] == values["to_company_id"]:
        raise BadUserInput.single("toCompanyId", "a company cannot be related to itself")
    return await records.insert_row(scope, RELATIONSHIP, values)


async def delete_relationship(scope: TenantScope, relationship_id: uuid.UUID) -> uuid.UUID:
    return await records.delete_row(scope, RELATIONSHIP, relationship_id)


async def relationships_of(
    scope: TenantScope, company_ids: Sequence[uuid.UUID]
) -> list[list[Row[Any]]]:
    """Both directions for each company, oldest first, in one statement."""
    wanted = set(company_ids)
    from_ = col(CompanyRelationship.from_company_id)
    to = col(CompanyRelationship.to_company_id)
    statement = (
        sa.select(*RELATIONSHIP.columns)
        .where(sa.or_(from_.in_(wanted), to.in_(wanted)))
        .order_by(col(CompanyRelationship.created_at), RELATIONSHIP.id)
    )
    grouped: dict[uuid.UUID, list[Row[Any]]] = {company_id: [] for company_id in company_ids}
    async with scope.reading() as session:
        for row in await session.execute(statement):
            for company_id in {row.from_company_id, row.to_company_id} & wanted:
                grouped[company_id].append(row)
    return [grouped[company_id] for company_id in company_ids]


# ---- contracts ------------------------------------------------------------------------------


class ContractInput(Input):
    company_id: uuid.UUID
    title: Name200
    number: Text50 = None
    start_date: date | None = None
    end_date: date | None = None
    value: Money | None = None
    currency: Currency = "EUR"
    status: ContractStatus = ContractStatus.DRAFT
    notes: Annotated[str | None, Field(max_length=20_000)] = None


ContractPatch, CONTRACT_NOT_NULLABLE = patch_model(ContractInput)


def _check_dates(start: Any, end: Any) -> None:
    if start is not None and end is not None and end < start:
        raise BadUserInput([FieldProblem("endDate", "must not be before startDate")])


async def create_contract(scope: TenantScope, data: Mapping[str, Any]) -> Row[Any]:
    values = validate(ContractInput, data).model_dump()
    _check_dates(values["start_date"], values["end_date"])
    return await records.insert_row(scope, CONTRACT, values)


async def update_contract(
    scope: TenantScope,
    contract_id: uuid.UUID,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Row[Any]:
    values = validate_patch(ContractPatch, CONTRACT_NOT_NULLABLE, data)
    if not {"start_date", "end_date"} & set(values):
        return await records.update_row(scope, CONTRACT, contract_id, values, expected_version)
    current = await records.get_row(scope, CONTRACT, contract_id)
    _check_dates(
        values.get("start_date", current.start_date), values.get("end_date", current.end_date)
    )
    # The database check (end >= start) still guards a concurrent change of the other date.
    return await records.update_row(scope, CONTRACT, contract_id, values, expected_version)


async def get_contract(scope: TenantScope, contract_id: uuid.UUID) -> Row[Any]:
    return await records.get_row(scope, CONTRACT, contract_id)


async def list_contracts(
    scope: TenantScope, company_id: uuid.UUID | None, statuses: Sequence[ContractStatus]
) -> list[Row[Any]]:
    statement = sa.select(*CONTRACT.columns)
    if company_id is not None:
        statement = statement.where(col(Contract.company_id) == company_id)
    if statuses:
        statement = statement.where(col(Contract.status).in_(statuses))
    statement = statement.order_by(col(Contract.end_date).nulls_last(), CONTRACT.id).limit(500)
    async with scope.reading() as session:
        return list(await session.execute(statement))


async def delete_contract(scope: TenantScope, contract_id: uuid.UUID) -> uuid.UUID:
    return await records.delete_row(scope, CONTRACT, contract_id)
