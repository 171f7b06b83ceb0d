"""The domain enums registered as GraphQL enums (the same classes, so rows serialize directly)."""

from __future__ import annotations

import enum

import strawberry

from models.enums import (
    ActivityType,
    CompanySize,
    ContactSource,
    ContractStatus,
    DealStatus,
    EmailType,
    EntityStatus,
    LostReason,
    OwnerRole,
    PhoneType,
    StageKind,
)

strawberry.enum(EntityStatus, description="Lifecycle state of a record.")
strawberry.enum(
    CompanySize,
    description="Employee band: MICRO 1-9, SMALL 10-49, MEDIUM 50-249, LARGE 250-999, "
    "ENTERPRISE 1000+.",
)
for _domain_enum in (
    ActivityType,
    ContactSource,
    ContractStatus,
    DealStatus,
    EmailType,
    LostReason,
    OwnerRole,
    PhoneType,
    StageKind,
):
    strawberry.enum(_domain_enum)


@strawberry.enum(description="Sort direction.")
class OrderDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


__all__ = [
    "ActivityType",
    "CompanySize",
    "ContactSource",
    "ContractStatus",
    "DealStatus",
    "EmailType",
    "EntityStatus",
    "LostReason",
    "OrderDirection",
    "OwnerRole",
    "PhoneType",
    "StageKind",
]
