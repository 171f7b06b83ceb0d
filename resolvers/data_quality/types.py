"""The data quality report: stored values that fail today's identifier checks."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import strawberry

from app.services.common.identifiers import Reason
from app.services.data_quality.queries import MAX_FIRST
from app.services.data_quality.rules import Issue, RecordType
from resolvers.common.pagination import Edge, PageInfo
from resolvers.common.relations import LIST_SIZE
from resolvers.companies.types import Company
from resolvers.contacts.types import Contact


@strawberry.enum(description="Why a stored value fails its check.")
class DataQualityReason(Enum):
    WRONG_CHECK_DIGIT = strawberry.enum_value(
        Reason.WRONG_CHECK_DIGIT.value, description="A VAT id whose check digit is wrong."
    )
    INVALID_FORMAT = strawberry.enum_value(
        Reason.INVALID_FORMAT.value, description="Not written as a value of its kind can be."
    )
    INVALID_LENGTH = strawberry.enum_value(
        Reason.INVALID_LENGTH.value, description="Too few or too many characters or digits."
    )
    UNSUPPORTED_COUNTRY = strawberry.enum_value(
        Reason.UNSUPPORTED_COUNTRY.value,
        description="A VAT id or phone number of a country prefix the CRM does not check.",
    )
    UNKNOWN_COURT = strawberry.enum_value(
        Reason.UNKNOWN_COURT.value, description="Names no German register court."
    )
    OUT_OF_RANGE = strawberry.enum_value(
        Reason.OUT_OF_RANGE.value, description="A German postcode outside 01001 to 99998."
    )
    NOT_ASSIGNED = strawberry.enum_value(
        Reason.NOT_ASSIGNED.value, description="A phone number in no number range of its country."
    )


@strawberry.enum(description="The kind of record a data quality issue belongs to.")
class DataQualityRecordType(Enum):
    COMPANY = strawberry.enum_value(
        RecordType.COMPANY.value,
        description="A company (its VAT id, tax or register number, court, postcodes, "
        "e-mails, phones).",
    )
    CONTACT = strawberry.enum_value(
        RecordType.CONTACT.value, description="A contact person (its e-mails and phones)."
    )


DataQualityRecord = Annotated[
    Company | Contact,
    strawberry.union("DataQualityRecord", description="The record holding a failing value."),
]


@strawberry.type(description="A stored value that fails today's checks, and why.")
class DataQualityIssue:
    record_type: DataQualityRecordType = strawberry.field(
        description="Whether the value belongs to a company or a contact."
    )
    record_id: strawberry.ID = strawberry.field(description="The id of the record holding it.")
    record: DataQualityRecord | None = strawberry.field(
        description="The record (null if it was deleted since the page was read)."
    )
    field: str = strawberry.field(
        description="The field as an input names it: vatId, taxId, tradeRegisterNumber, "
        "registerCourt, billingAddress.zip, deliveryAddress.zip, emails or phones."
    )
    value: str = strawberry.field(description="The value as stored.")
    reason: DataQualityReason = strawberry.field(
        description="Why the value fails, as a code a client can translate or group by."
    )
    message: str = strawberry.field(description="What is wrong, for people.")

    @staticmethod
    def of(issue: Issue, record: Any) -> DataQualityIssue:
        return DataQualityIssue(
            record_type=DataQualityRecordType(issue.record_type.value),
            record_id=strawberry.ID(str(issue.record_id)),
            record=record,
            field=issue.field,
            value=issue.value,
            reason=DataQualityReason(issue.reason.value),
            message=issue.message,
        )


@strawberry.type(description="A page of data quality issues.")
class DataQualityIssueConnection:
    edges: list[Edge[DataQualityIssue]] = strawberry.field(
        description="The issues of this page, each with its cursor.",
        metadata={LIST_SIZE: MAX_FIRST},
    )
    page_info: PageInfo = strawberry.field(
        description="Where the page ends: pass endCursor as `after` while hasNextPage is true."
    )
    scanned: int = strawberry.field(
        description="Records' values read for this page (bounded: a page that reaches the "
        "bound ends early, with hasNextPage and a cursor where it stopped)."
    )
