"""`dataQualityIssues`: the stored identifiers that fail today's checks, keyset-paged.

Order (stable): the companies' fields (by company id, then field), then the e-mail addresses,
then the phone numbers (each by its row's id), whoever holds them. A cursor is a position in
that order: (section, row id, field).

Cost of a page, whatever the tenant's size: its candidates come from the partial indexes of
models.identifier_checks (rows not yet found valid since they were last written), at most
`SCAN_LIMIT` rows a page, read `BATCH` at a time in id order; the exact checks run in Python
and the rows found valid are marked (one UPDATE a batch) so that no later page reads them
again until they change. A page that reaches the scan limit before it is full ends early,
with `hasNextPage` and a cursor where it stopped.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import SQLModel, col

from app.data.tenancy import TenantScope
from app.data.unit_of_work import UnitOfWork
from app.errors import BadUserInput
from app.services.data_quality.rules import (
    COMPANY_FIELDS,
    EMAIL_FIELDS,
    PHONE_FIELDS,
    Field,
    Issue,
    RecordType,
    issues_of,
)
from models import Company, Contact, ContactEmail, ContactPhone
from models.identifier_checks import COLUMN, FINGERPRINTS, unchecked

SCAN_LIMIT = 1000  # candidate rows one page reads at most
BATCH = 200  # candidate rows a statement reads
MAX_FIRST = 200
_PAST_FIELDS = 99  # a cursor's field position after every field of its row


@dataclass(frozen=True)
class Section:
    name: str
    model: type[SQLModel]
    table: str
    columns: tuple[str, ...]
    fields: tuple[Field, ...]
    record: Callable[[Mapping[str, Any]], tuple[RecordType, uuid.UUID]]


def _owner(row: Mapping[str, Any]) -> tuple[RecordType, uuid.UUID]:
    if row["contact_id"] is not None:
        return RecordType.CONTACT, row["contact_id"]
    return RecordType.COMPANY, row["company_id"]


SECTIONS = (
    Section(
        "company",
        Company,
        "company",
        (
            "id", "vat_id", "tax_id", "trade_register_number", "register_court",
            "billing_address", "delivery_address",
        ),
        COMPANY_FIELDS,
        lambda row: (RecordType.COMPANY, row["id"]),
    ),
    Section(
        "email", ContactEmail, "contact_email", ("id", "contact_id", "company_id", "email"),
        EMAIL_FIELDS, _owner,
    ),
    Section(
        "phone", ContactPhone, "contact_phone", ("id", "contact_id", "company_id", "phone"),
        PHONE_FIELDS, _owner,
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Position:
    section: int = 0
    row_id: uuid.UUID | None = None
    field: int = -1  # the last field of `row_id` already listed

    def encode(self) -> str:
        raw = orjson.dumps(["dq", self.section, str(self.row_id), self.field])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> Position:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            name, section, row_id, field = orjson.loads(base64.urlsafe_b64decode(padded))
            if name != "dq" or not (0 <= int(section) < len(SECTIONS)):
                raise ValueError("cursor of another list")
            return cls(int(section), uuid.UUID(str(row_id)), int(field))
        except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
            raise BadUserInput.single("after", "is not a cursor of this list") from None


@dataclass(frozen=True)
class IssuePage:
    issues: Sequence[tuple[str, Issue]]  # each with its cursor
    has_next_page: bool
    end_cursor: str | None
    scanned: int  # candidate rows read


async def issues_page(
    scope: TenantScope, first: int, after: str | None, scan_limit: int = SCAN_LIMIT
) -> IssuePage:
    if not 0 <= first <= MAX_FIRST:
        raise BadUserInput.single("first", f"must be between 0 and {MAX_FIRST}")
    start = Position.decode(after) if after is not None else Position()
    scan = _Scan(first, scan_limit)
    async with scope.writing() as uow:
        for index in range(start.section, len(SECTIONS)):
            await scan.section(uow, index, start if index == start.section else Position(index))
            if scan.done:
                break
    if len(scan.found) > first:
        page = scan.found[:first]
        return IssuePage(page, True, page[-1][0] if page else after, scan.scanned)
    if scan.stopped is not None:
        return IssuePage(scan.found, True, scan.stopped.encode(), scan.scanned)
    return IssuePage(scan.found, False, scan.found[-1][0] if scan.found else None, scan.scanned)


@dataclass
class _Scan:
    """One page's walk over the candidates: `first` + 1 issues (the one more says there is a
    next page) or `limit` rows read, whichever comes first."""

    first: int
    limit: int  # candidate rows to read at most
    found: list[tuple[str, Issue]] = field(default_factory=list)
    scanned: int = 0
    stopped: Position | None = None  # where the scan limit ended the page

    @property
    def done(self) -> bool:
        return len(self.found) > self.first or self.stopped is not None

    async def section(self, uow: UnitOfWork, index: int, here: Position) -> None:
        section = SECTIONS[index]
        while not self.done:
            asked = min(BATCH, self.limit - self.scanned)
            rows = await _candidates(uow, section, here.row_id, asked)
            self.scanned += len(rows)
            await _mark_valid(uow, section, self._check(index, here, rows))
            if rows:
                here = Position(index, rows[-1]["id"], _PAST_FIELDS)
            if len(rows) < asked:
                return  # the section is done
            if self.scanned >= self.limit:
                self.stopped = here

    def _check(
        self, index: int, here: Position, rows: Sequence[Mapping[str, Any]]
    ) -> list[tuple[uuid.UUID, str]]:
        """Add the rows' issues past `here`; the rows found valid, with their fingerprints."""
        section = SECTIONS[index]
        valid: list[tuple[uuid.UUID, str]] = []
        for row in rows:
            issues = issues_of(section.fields, row, section.record(row))
            if not issues:
                valid.append((row["id"], row["fingerprint"]))
            listed = here.field if row["id"] == here.row_id else -1
            self.found += [
                (Position(index, row["id"], at).encode(), issue)
                for at, issue in issues
                if at > listed
            ]
        return valid


async def _candidates(
    uow: UnitOfWork, section: Section, from_id: uuid.UUID | None, limit: int
) -> list[Mapping[str, Any]]:
    """Rows not found valid since last written, from `from_id` (inclusive) in id order."""
    if limit <= 0:
        return []
    model: Any = section.model
    fingerprint = sa.literal_column(FINGERPRINTS[section.table], sa.Text).label("fingerprint")
    statement = (
        sa.select(*(getattr(model, name) for name in section.columns), fingerprint)
        .where(sa.text(unchecked(section.table)))
        .order_by(col(model.id))
        .limit(limit)
    )
    if from_id is not None:
        statement = statement.where(col(model.id) >= from_id)
    if model is not Company:
        statement = statement.where(_owner_is_live(model))
    return [dict(row._mapping) for row in (await uow.execute_rows(statement)).all()]


def _owner_is_live(model: Any) -> sa.ColumnElement[bool]:
    """An e-mail or phone of a trashed record is not listed (the tenant filter hides trashed
    owners inside these semi-joins): it is back in the report when its record is restored."""
    return sa.or_(
        sa.exists().where(col(Contact.id) == model.contact_id),
        sa.exists().where(col(Company.id) == model.company_id),
    )


async def _mark_valid(
    uow: UnitOfWork, section: Section, valid: Sequence[tuple[uuid.UUID, str]]
) -> None:
    """Remember the rows found valid, unless they changed since they were read (their
    fingerprint then differs); no event, no new version, `updated_at` as it was."""
    if not valid:
        return
    model: Any = section.model
    fingerprint = sa.literal_column(FINGERPRINTS[section.table], sa.Text)
    statement = (
        sa.update(model)
        .where(
            col(model.id).in_([row_id for row_id, _ in valid]),
            fingerprint == sa.any_(sa.literal([fp for _, fp in valid], postgresql.ARRAY(sa.Text))),
        )
        .values({COLUMN: fingerprint, "updated_at": col(model.updated_at)})
        .execution_options(synchronize_session=False)
    )
    await uow.execute(statement)
