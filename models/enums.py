"""Enumerations of the CRM domain, stored as PostgreSQL enum types."""

from __future__ import annotations

import enum


class ContactSource(enum.Enum):
    WEBSITE = "WEBSITE"
    REFERRAL = "REFERRAL"
    EVENT = "EVENT"
    TRADE_FAIR = "TRADE_FAIR"
    COLD_OUTREACH = "COLD_OUTREACH"
    INBOUND = "INBOUND"
    PARTNER = "PARTNER"
    LEXWARE_IMPORT = "LEXWARE_IMPORT"
    OTHER = "OTHER"


class EntityStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    BLOCKED = "BLOCKED"


class CompanySize(enum.Enum):
    """Employee bands as the EU SME definition counts them."""

    MICRO = "MICRO"  # 1-9
    SMALL = "SMALL"  # 10-49
    MEDIUM = "MEDIUM"  # 50-249
    LARGE = "LARGE"  # 250-999
    ENTERPRISE = "ENTERPRISE"  # 1000+


class OwnerRole(enum.Enum):
    OWNER = "OWNER"
    MEMBER = "MEMBER"
    WATCHER = "WATCHER"


class LostReason(enum.Enum):
    PRICE = "PRICE"
    COMPETITOR = "COMPETITOR"
    NO_BUDGET = "NO_BUDGET"
    NO_DECISION = "NO_DECISION"
    TIMING = "TIMING"
    PRODUCT_FIT = "PRODUCT_FIT"
    NO_RESPONSE = "NO_RESPONSE"
    OTHER = "OTHER"


class EmailType(enum.Enum):
    WORK = "WORK"
    PERSONAL = "PERSONAL"
    OTHER = "OTHER"


class PhoneType(enum.Enum):
    OFFICE = "OFFICE"
    MOBILE = "MOBILE"
    FAX = "FAX"


class ActivityType(enum.Enum):
    NOTE = "NOTE"
    CALL = "CALL"
    EMAIL = "EMAIL"
    MEETING = "MEETING"
    TASK = "TASK"
    FOLLOWUP = "FOLLOWUP"


class DealStatus(enum.Enum):
    OPEN = "OPEN"
    WON = "WON"
    LOST = "LOST"


class StageKind(enum.Enum):
    OPEN = "OPEN"
    WON = "WON"
    LOST = "LOST"


class ContractStatus(enum.Enum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    TERMINATED = "TERMINATED"
