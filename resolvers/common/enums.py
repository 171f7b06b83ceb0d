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
from resolvers.common.described import described_enum

described_enum(
    EntityStatus,
    "Lifecycle state of a company or contact: a label for lists, filters and sorting (no "
    "state blocks reading or writing the record).",
    {
        "ACTIVE": "Current: a customer, prospect or partner being worked with. The default.",
        "INACTIVE": "Dormant: kept for its history, e.g. no longer a customer.",
        "BLOCKED": "Not to be contacted or sold to (e.g. unpaid invoices, asked not to be "
        "contacted); the team's label, the server enforces nothing.",
    },
)
described_enum(
    CompanySize,
    "Employee band as the EU SME definition counts employees: MICRO 1-9, SMALL 10-49, "
    "MEDIUM 50-249, LARGE 250-999, ENTERPRISE 1000+.",
    {
        "MICRO": "1-9 employees (Kleinstunternehmen).",
        "SMALL": "10-49 employees.",
        "MEDIUM": "50-249 employees.",
        "LARGE": "250-999 employees.",
        "ENTERPRISE": "1000 employees or more.",
    },
)
described_enum(
    ActivityType,
    "What kind of activity it is; every kind can have a due date, an assignee and be completed.",
    {
        "NOTE": "A note on the record (a call summary, a remark); nothing to do.",
        "CALL": "A phone call, held or planned.",
        "EMAIL": "An e-mail sent or received, logged by hand (the CRM sends no e-mail).",
        "MEETING": "A meeting or visit, on site or online.",
        "TASK": "Something to do, usually with a due date and an assignee.",
        "FOLLOWUP": "A follow-up (Wiedervorlage): get back to the customer by the due date.",
    },
)
described_enum(
    ContactSource,
    "How the team came to know a contact (for lead-source reports).",
    {
        "WEBSITE": "Through our website (contact form, chat).",
        "REFERRAL": "Recommended by a customer or acquaintance.",
        "EVENT": "Met at an event (conference, webinar, meetup).",
        "TRADE_FAIR": "Met at a trade fair (Messe).",
        "COLD_OUTREACH": "Our own cold call or e-mail (Kaltakquise).",
        "INBOUND": "Got in touch on their own (call, e-mail).",
        "PARTNER": "Introduced by a partner company.",
        "LEXWARE_IMPORT": "Created by importing a Lexware Office contact (the import sets it).",
        "OTHER": "Any other source.",
    },
)
described_enum(
    ContractStatus,
    "Where a contract stands; set by the team (the server does not change it when endDate passes).",
    {
        "DRAFT": "Being prepared, not signed yet. The default.",
        "ACTIVE": "Signed and running.",
        "EXPIRED": "Ran out at its end date.",
        "TERMINATED": "Ended early by notice (gekündigt).",
    },
)
described_enum(
    DealStatus,
    "Whether a deal is still open, won or lost; it always agrees with its stage's kind "
    "(moving to a WON or LOST stage sets it, setting it moves the deal to such a stage).",
    {
        "OPEN": "Still being worked on, on an OPEN stage.",
        "WON": "Won: on a WON stage; closedAt says when.",
        "LOST": "Lost: on a LOST stage, with a lostReason; closedAt says when.",
    },
)
described_enum(
    LostReason,
    "Why a deal was lost; required when its status becomes LOST, cleared when it is reopened.",
    {
        "PRICE": "Our price was too high.",
        "COMPETITOR": "The customer chose a competitor.",
        "NO_BUDGET": "The customer had no budget for it.",
        "NO_DECISION": "No decision was made (the project stalled).",
        "TIMING": "The timing was wrong (maybe later).",
        "PRODUCT_FIT": "Our product did not fit what the customer needs.",
        "NO_RESPONSE": "The customer stopped answering.",
        "OTHER": "Another reason, said in lostReasonText (required with OTHER).",
    },
)
described_enum(
    StageKind,
    "What a pipeline stage means for the deals on it.",
    {
        "OPEN": "A stage deals pass through while being worked on (their status is OPEN).",
        "WON": "A closing stage: a deal moved here is WON.",
        "LOST": "A closing stage: a deal moved here is LOST (it needs a lostReason).",
    },
)
described_enum(
    OwnerRole,
    "A user's part in a company, contact or deal; a user holds one role per record.",
    {
        "OWNER": "Responsible for the record (the default role, and a creator's).",
        "MEMBER": "Works on the record alongside the owner.",
        "WATCHER": "Follows the record without working on it.",
    },
)
described_enum(
    EmailType,
    "What kind of e-mail address it is.",
    {
        "WORK": "A business address. The default.",
        "PERSONAL": "A private address.",
        "OTHER": "Any other address (e.g. a shared mailbox).",
    },
)
described_enum(
    PhoneType,
    "What kind of phone number it is.",
    {
        "OFFICE": "A landline at the office. The default.",
        "MOBILE": "A mobile number.",
        "FAX": "A fax number.",
    },
)


@strawberry.enum(description="Sort direction of a list.")
class OrderDirection(enum.Enum):
    ASC = strawberry.enum_value(
        "ASC",
        description="Ascending: A to Z, oldest first, smallest first; records without the "
        "value come last.",
    )
    DESC = strawberry.enum_value(
        "DESC",
        description="Descending: Z to A, newest first, largest first; records without the "
        "value still come last.",
    )


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
