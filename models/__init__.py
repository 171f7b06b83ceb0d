"""SQLModel tables and enums of insight-crm. Importing this package registers every table."""

import sqlalchemy as sa
from sqlmodel import SQLModel

from models.activities import Activity
from models.base import TenantOwned, TenantScoped, Trashable
from models.companies import Company, CompanyOwner, CompanyRelationship, Contract
from models.contact_info import ContactEmail, ContactPhone
from models.contacts import Contact, ContactOwner
from models.deals import Deal, DealOwner, Pipeline, PipelineStage, StageFigure
from models.duplicates import DuplicateKey
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
from models.events import CrmEvent, EventCounter, EventRelay
from models.idempotency import IdempotencyKey
from models.lexware import DealVoucher, LexwareAccount, LexwareVoucher
from models.list_counts import ListCount
from models.lookups import AccountType, Industry, RelationshipType
from models.merges import MergedRecord
from models.record_tags import CompanyTag, ContactTag
from models.search import SearchEntry
from models.tenancy import RevokedToken, Tenant, User

metadata = SQLModel.metadata

# SQLAlchemy's `with_loader_criteria(TenantOwned, lambda cls: cls.tenant_id == ...)` calls the
# lambda once with the mixin itself to analyse it, and pydantic keeps no class attribute for a
# field: give the mixin a stand-in column. This runs after every table class is built (so no
# table takes it as a default); mapped classes shadow it with their own column attribute.
type.__setattr__(TenantScoped, "tenant_id", sa.column("tenant_id"))
type.__setattr__(TenantOwned, "tenant_id", sa.column("tenant_id"))
# The same for the trash filter's `with_loader_criteria(Trashable, lambda cls: ...)`.
type.__setattr__(Trashable, "deleted_at", sa.column("deleted_at"))

__all__ = [
    "AccountType",
    "Activity",
    "ActivityType",
    "Company",
    "CompanyOwner",
    "CompanyRelationship",
    "CompanySize",
    "CompanyTag",
    "Contact",
    "ContactEmail",
    "ContactOwner",
    "ContactPhone",
    "ContactSource",
    "ContactTag",
    "Contract",
    "ContractStatus",
    "CrmEvent",
    "Deal",
    "DealOwner",
    "DealStatus",
    "DealVoucher",
    "DuplicateKey",
    "EmailType",
    "EntityStatus",
    "EventCounter",
    "EventRelay",
    "IdempotencyKey",
    "Industry",
    "LexwareAccount",
    "LexwareVoucher",
    "ListCount",
    "LostReason",
    "MergedRecord",
    "OwnerRole",
    "PhoneType",
    "Pipeline",
    "PipelineStage",
    "RelationshipType",
    "RevokedToken",
    "SearchEntry",
    "StageFigure",
    "StageKind",
    "Tenant",
    "TenantOwned",
    "TenantScoped",
    "Trashable",
    "User",
    "metadata",
]
